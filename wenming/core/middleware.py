from django.conf import settings
from django.utils import translation

from .audit import current_ip


class RequestContextMiddleware:
    """Makes the client address available to the audit trail for the request's duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (Django 5.2 has none built in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class ChineseFirstLocaleMiddleware:
    """简体中文 unless the user chose another language (the language cookie set by /i18n/setlang/).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an English-language
    phone would get a half-translated government page; here English is an explicit choice.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
