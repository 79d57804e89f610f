"""{% unread_notices user as n %}: how many notices the logged-in volunteer has not read; None for
anyone who is not a volunteer (no inbox to link to)."""

from django import template

from wenming.people.models import Volunteer

from ..services import unread_count

register = template.Library()


@register.simple_tag
def unread_notices(user) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        volunteer = user.volunteer
    except Volunteer.DoesNotExist:
        return None
    return unread_count(volunteer)
