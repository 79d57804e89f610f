"""What console pages share: the error pages of a refusal, and the POST half of a form page."""

from functools import wraps

from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import DomainError, Forbidden, NotFound


def forbidden_page(request, message=None, status=403):
    return render(
        request, "core/error.html",
        {"title": _("无权操作"), "message": message or _("您的角色或管辖范围不允许进行此项操作。")},
        status=status,
    )


def domain_error_page(request, exc: DomainError):
    """A refusal from a service or a query as its page: 404, 403, or 4xx with the Chinese message."""
    from .views import not_found

    if isinstance(exc, NotFound):
        return not_found(request)
    if isinstance(exc, Forbidden):
        return forbidden_page(request, exc.message, status=exc.status)
    return render(request, "core/error.html", {"title": _("无法完成操作"), "message": exc.message}, status=exc.status)


def domain_errors(view):
    """Decorator: a DomainError raised by the view becomes its page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return domain_error_page(request, exc)

    return wrapper


def submit_form(request, form, save, *, success, then):
    """Hand a valid POSTed form's cleaned data to `save` (a service call) and answer.

    A DomainError comes back on the form (the caller shows the form again: None is
    returned); a Forbidden is the 403 page; success flashes `success` and returns `then`.
    `success` and `then` may be callables of what `save` returned."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(dict(form.cleaned_data))
    except Forbidden as exc:
        return forbidden_page(request, exc.message)
    except DomainError as exc:
        form.add_domain_error(exc)
        return None
    messages.success(request, success(saved) if callable(success) else success)
    return then(saved) if callable(then) else then
