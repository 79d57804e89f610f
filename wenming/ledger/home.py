"""The console home's cards for the ledger: a volunteer's own hours, a manager's pending approvals."""

from django.urls import reverse
from django.utils.translation import gettext as _

from wenming.core.home import register_home_card
from wenming.core.scoping import MANAGER_ROLES

from . import queries
from .pdf import hours


@register_home_card
def ledger_card(user) -> list[tuple]:
    cards = []
    volunteer = getattr(user, "volunteer", None) if user.is_authenticated else None
    if volunteer is not None:
        summary = queries.volunteer_summary(volunteer)
        cards.append((_("我的服务时长（小时）"), hours(summary.total_minutes), reverse("ledger:me_hours")))
        cards.append((_("我的积分"), summary.points, reverse("ledger:me_points")))
    if user.is_superuser or user.role in MANAGER_ROLES:
        cards.append((_("待审批补录/更正"), queries.pending_count(user), reverse("ledger:requests")))
    return cards
