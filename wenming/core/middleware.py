import time

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


class IdleSessionMiddleware:
    """Idle sessions end after SESSION_COOKIE_AGE (30 minutes): each request of a logged-in
    session pushes the expiry forward — but writes the session at most once a minute, not on
    every request (SESSION_SAVE_EVERY_REQUEST would cost a write and a commit per page)."""

    KEY = "_touched"
    EVERY = 60  # seconds: the idle limit is kept to within a minute

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get("_auth_user_id"):
            now = int(time.time())
            if now - int(session.get(self.KEY, 0) or 0) >= self.EVERY:
                session[self.KEY] = now  # marks it modified: saved with a fresh expiry
        return self.get_response(request)


def mark_session_pushed(sender, request, user, **kwargs):
    """A log-in saves the session with a fresh expiry: that is the first push (user_logged_in)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[IdleSessionMiddleware.KEY] = int(time.time())


class SecurityHeadersMiddleware:
    """Content-Security-Policy (Django 5.2 has none built in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class RefuseNulMiddleware:
    """A NUL character in a query or form value is never meaningful and PostgreSQL refuses it
    in text: answer 400 with a Chinese page instead of letting it become a 500 deep in a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(("/api/", "/open311/")) and _has_nul(request):  # they answer in their own format
            from django.shortcuts import render

            return render(request, "core/error.html", {"title": "请求无效", "message": "提交的内容含有无效字符。"},
                          status=400)
        return self.get_response(request)


def _has_nul(request) -> bool:
    if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        return any("\x00" in v for values in request.POST.lists() for v in values[1])
    return False


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
        try:
            response = self.get_response(request)
        finally:
            # The thread serves other requests (and, in tests, other code) next: leave no language behind.
            translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        return response
