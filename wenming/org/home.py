"""The organisation's cards on the console home page (registered in OrgConfig.ready())."""

from django.urls import reverse
from django.utils.translation import gettext as _

from wenming.core.home import register_home_card
from wenming.core.scoping import reach_paths

from . import queries


@register_home_card
def org_cards(user) -> list[tuple[str, int, str]]:
    """实践所, 实践站, 阵地 and overdue contact points within the user's reach."""
    if not (user.is_superuser or reach_paths(user)):
        return []
    counts = queries.home_counts(user)
    return [
        (_("实践所"), counts["institutes"], reverse("org:tree")),
        (_("实践站"), counts["stations"], reverse("org:tree")),
        (_("阵地"), counts["sites"], reverse("org:sites")),
        (_("联系点逾期"), counts["overdue_contact_points"], reverse("org:contact_points") + "?overdue=1"),
    ]
