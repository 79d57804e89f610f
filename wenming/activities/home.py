"""The console home's card for activities: what is recruiting and what waits to be settled."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.core.home import register_home_card
from wenming.core.models import User
from wenming.core.scoping import reach_paths

from . import queries
from .models import Activity


@register_home_card
def activities_card(user) -> list[tuple]:
    """For the console's organisers and viewers; volunteers see theirs on the phone pages."""
    if not user.is_authenticated or (user.role == User.Role.VOLUNTEER and not user.is_superuser):
        return []
    if not (user.is_superuser or reach_paths(user) or user.role == User.Role.TEAM_LEADER):
        return []
    now = timezone.now()
    qs = queries.activities_for(user).filter(status=Activity.Status.PUBLISHED)
    recruiting = qs.filter(starts_at__gt=now).count()
    to_settle = qs.filter(ends_at__lte=now).count()
    url = reverse("activities:list")
    return [
        (_("招募中活动"), recruiting, f"{url}?phase={Activity.Phase.RECRUITING}"),
        (_("待结算活动"), to_settle, f"{url}?phase={Activity.Phase.FINISHED}"),
    ]
