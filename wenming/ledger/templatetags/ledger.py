"""Template filters of the ledger's pages."""

from django import template

from wenming.ledger.pdf import hours as _hours

register = template.Library()


@register.filter
def hours(minutes) -> str:
    """Minutes as hours: 150 → "2.5", -30 → "-0.5"."""
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        return ""
    return ("-" if minutes < 0 else "") + _hours(abs(minutes))


@register.filter
def signed(value) -> str:
    """+12 / -5 / 0."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return ""
    return f"+{value}" if value > 0 else str(value)


@register.filter
def star_row(level, total=5) -> list[bool]:
    """[True, True, False, False, False] for 2 stars of 5."""
    try:
        level, total = int(level), int(total)
    except (TypeError, ValueError):
        return []
    return [i < level for i in range(total)]
