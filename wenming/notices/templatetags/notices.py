"""{% unread_notices user as n %}: how many notices the logged-in account has not read (its own
and its volunteer's); None for an anonymous visitor (no inbox to link to). One COUNT query."""

from django import template

from .. import queries

register = template.Library()


@register.simple_tag
def unread_notices(user) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return queries.unread_count(user)

