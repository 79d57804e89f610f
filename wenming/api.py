"""The JSON API under /api/v1/: one NinjaAPI, a router per domain, errors always structured."""

import logging
from functools import wraps

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.throttling import AnonRateThrottle, AuthRateThrottle

from wenming.activities.api import router as activities_router
from wenming.activities.api import themes_router
from wenming.core.api import router as core_router
from wenming.core.auth import api_auth
from wenming.core.errors import DomainError
from wenming.needs.api import router as needs_router
from wenming.org.api import router as org_router
from wenming.people.api import router as people_router
from wenming.people.api import teams_router
from wenming.publicity.api import router as publicity_router
from wenming.stats.api import router as stats_router

log = logging.getLogger(__name__)


class WenmingAPI(NinjaAPI):
    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _guarded(pattern.callback)
        return urls


api = WenmingAPI(
    title="文明实践云平台 API",
    version="1.0.0",
    description="Wenming 文明实践云平台 REST API。所有错误均为 JSON：`{code, message, details}`。",
    urls_namespace="api",
    auth=api_auth,
    throttle=[AnonRateThrottle("60/m"), AuthRateThrottle("6000/m")],
)


def error(request, status: int, code: str, message: str, details=None):
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return error(request, 422, "invalid_input", "提交的数据格式不正确，请检查各字段。", details)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc: DjangoValidationError):
    return error(request, 422, "invalid_input", "；".join(exc.messages), None)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error(request, 401, "not_authenticated", "请先登录或提供有效的API令牌。")


@api.exception_handler(AuthorizationError)
def on_unauthorized(request, exc):
    return error(request, 403, "forbidden", "您无权进行此项操作。")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return error(request, 403, "forbidden", "您无权进行此项操作。")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error(request, 404, "not_found", "记录不存在或不在您的管辖范围内。")


HTTP_ERRORS = {
    400: ("malformed_request", "请求内容无法解析，请提交合法的JSON。"),
    401: ("not_authenticated", "请先登录或提供有效的API令牌。"),
    403: ("forbidden", "您无权进行此项操作。"),
    404: ("not_found", "记录不存在或不在您的管辖范围内。"),
    405: ("method_not_allowed", "该接口不支持此请求方法。"),
    413: ("request_too_large", "提交的内容过大。"),
    429: ("rate_limited", "请求过于频繁，请稍后再试。"),
}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja's own messages are English ("Cannot parse request body"): answer in Chinese, with a stable code.
    code, message = HTTP_ERRORS.get(exc.status_code, ("http_error", "请求无法处理，请检查后重试。"))
    if exc.status_code == 403 and "CSRF" in str(exc):
        code, message = "csrf_failed", "会话校验失败（CSRF），请刷新页面后重试；程序调用请使用API令牌。"
    return error(request, exc.status_code, code, message)


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    log.exception("API error")
    return error(request, 500, "internal_error", "服务器内部错误，请稍后再试；如持续出现请联系管理员。")


def _error_response(status: int, code: str, message: str, details=None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": details}, status=status)


def _has_nul(request) -> bool:
    """A NUL character anywhere in the query or the body: PostgreSQL text cannot hold one."""
    if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
        return True
    if request.content_type.startswith("multipart/"):  # uploads stream to files: check the text fields only
        return any("\x00" in v for _key, values in request.POST.lists() for v in values)
    return b"\x00" in request.body or b"\\u0000" in request.body


def _guarded(view):
    """What ninja answers outside its exception handlers, made the structured JSON error:
    a wrong method (a bare text/html 405), a body over the upload limit, a NUL character."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            if _has_nul(request):
                return _error_response(422, "invalid_input", "提交的内容含有不允许的控制字符（NUL）。")
        except RequestDataTooBig:
            return _error_response(413, *HTTP_ERRORS[413])
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = _error_response(405, *HTTP_ERRORS[405], details={"allowed": allowed})
            response["Allow"] = allowed
        return response

    return wrapper


api.add_router("/", core_router)
api.add_router("/", org_router)
api.add_router("/volunteers", people_router)
api.add_router("/teams", teams_router)
api.add_router("/activities", activities_router)
api.add_router("/themes", themes_router)
api.add_router("/needs", needs_router)
api.add_router("/media-reports", publicity_router)
api.add_router("/stats", stats_router)
