"""The volunteer's inbox (/notices/): unread first; opening a notice marks it read and follows
its link; "all read" marks the rest. A volunteer sees and marks only their own notices."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from wenming.people.models import Volunteer

from . import services
from .models import Notice

PAGE_SIZE = 20
MAX_ID = 2**63 - 1


def _volunteer(user):
    try:
        return user.volunteer
    except Volunteer.DoesNotExist:
        return None


def volunteer_page(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        volunteer = _volunteer(request.user)
        if volunteer is None:
            return render(request, "notices/message.html", {
                "title": _("未关联志愿者"),
                "message": _("站内消息发给志愿者本人。您的账号没有关联志愿者身份，请先注册成为志愿者，或请所在实践站管理员为您关联账号。"),
            }, status=403)
        return view(request, volunteer, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@never_cache
@volunteer_page
def inbox(request, volunteer):
    qs = (
        Notice.objects.filter(volunteer=volunteer)
        .annotate(read=Case(When(read_at=None, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("read", "-created_at", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notices/inbox.html", {
        "page": page,
        "unread": services.unread_count(volunteer),
        "tab": "notices",
    })


@never_cache
@volunteer_page
def open_notice(request, volunteer, pk: int):
    """Mark one's own notice read and go where it points (an address inside the site), else back to the inbox."""
    if not 0 < pk <= MAX_ID:
        raise Http404
    try:
        notice = Notice.objects.get(pk=pk, volunteer=volunteer)
    except Notice.DoesNotExist:
        raise Http404 from None
    services.mark_read(volunteer, [notice.pk])
    url = notice.url
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return redirect(url)
    return redirect(f"{reverse('notices:inbox')}#n{notice.pk}")


@volunteer_page
def read_all(request, volunteer):
    if request.method != "POST":
        return redirect("notices:inbox")
    n = services.mark_read(volunteer)
    if n:
        messages.success(request, _("已将%(n)s条消息标为已读。") % {"n": n})
    return redirect("notices:inbox")
