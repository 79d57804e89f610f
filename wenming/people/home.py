"""The console home's card for volunteers and teams."""

from django.urls import reverse
from django.utils.translation import gettext as _

from wenming.core.home import register_home_card

from . import queries


@register_home_card
def people_card(user) -> list[tuple]:
    counts = queries.home_counts(user)
    if "own" in counts:
        own = counts["own"]
        if own is None:
            return []
        return [
            # Grouped as district code + sequence, so the 14 digits fit (and wrap in) a narrow card.
            (_("我的志愿者编号"), f"{own.number[:6]} {own.number[6:]}", reverse("people:volunteer", args=[own.pk])),
            (_("我加入的服务队"), counts["own_teams"], None),
        ]
    return [
        (_("志愿者"), counts["volunteers"], reverse("people:volunteers")),
        (_("志愿服务队"), counts["teams"], reverse("people:teams")),
    ]
