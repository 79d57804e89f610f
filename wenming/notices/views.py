"""The inbox (/notices/) of every account: what was addressed to the account and to its
volunteer, unread first; opening a notice marks it read and follows its link; "all read"
marks the rest. An account sees and marks only its own notices.

Volunteers read it in the phone layout, console accounts (admins, team leaders) in the
console's, with its side navigation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from wenming.core.models import User

from . import queries, services
from .models import Notice

PAGE_SIZE = 20
MAX_ID = 2**63 - 1


def _layout(user) -> str:
    phone = user.role == User.Role.VOLUNTEER and not user.is_superuser
    return "mobile_base.html" if phone else "base.html"


@never_cache
@login_required
def inbox(request):
    page = Paginator(queries.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    layout = _layout(request.user)
    return render(request, "notices/inbox.html", {
        "page": page,
        "unread": queries.unread_count(request.user),
        "layout": layout,
        "phone": layout == "mobile_base.html",
        "tab": "notices",
    })


@never_cache
@login_required
def open_notice(request, pk: int):
    """Mark one's own notice read and go where it points (an address inside the site), else back to the inbox."""
    if not 0 < pk <= MAX_ID:
        raise Http404
    # Another account's notice is as absent as one that does not exist: ids reveal nothing.
    notice = Notice.objects.filter(queries.for_account(request.user), pk=pk).first()
    if notice is None:
        raise Http404
    services.mark_read_for(request.user, [notice.pk])
    url = notice.url
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return redirect(url)
    return redirect(f"{reverse('notices:inbox')}#n{notice.pk}")


@login_required
def read_all(request):
    if request.method != "POST":
        return redirect("notices:inbox")
    n = services.mark_read_for(request.user)
    if n:
        messages.success(request, _("已将%(n)s条消息标为已读。") % {"n": n})
    return redirect("notices:inbox")
