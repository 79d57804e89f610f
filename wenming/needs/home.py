"""The console home's card for the need loop: what waits on this account."""

from django.urls import reverse
from django.utils.translation import gettext as _

from wenming.core.home import register_home_card
from wenming.core.models import User

from . import queries
from .models import Need


@register_home_card
def needs_card(user) -> list[tuple]:
    if not user.is_authenticated or (user.role == User.Role.VOLUNTEER and not user.is_superuser):
        return []
    qs = queries.needs_for(user)
    url = reverse("needs:list")
    return [
        (_("待审核点单"), qs.filter(state=Need.State.SUBMITTED).count(), f"{url}?stage=review"),
        (_("待派单"), qs.filter(state=Need.State.APPROVED).count(), f"{url}?stage=dispatch"),
        (_("超时点单"), qs.filter(overdue=True, state__in=Need.OPEN_STATES).count(), reverse("needs:overdue")),
    ]
