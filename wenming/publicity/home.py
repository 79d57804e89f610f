"""The console home's card of the media-reports ledger: this year's reports within reach."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.core.home import register_home_card
from wenming.core.scoping import reach_paths

from . import queries


@register_home_card
def publicity_card(user) -> list[tuple]:
    if not (user.is_authenticated and (user.is_superuser or reach_paths(user))):
        return []
    year = timezone.localdate().year
    return [(_("今年宣传报道（篇）"), queries.year_total(user, year), f"{reverse('publicity:list')}?year={year}")]
