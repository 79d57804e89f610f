"""List pagination for the API: ?page=&page_size= (≤ 500) → {"items": [...], "count": N}."""

from ninja import Schema
from pydantic import Field

from .errors import InvalidInput

MAX_PAGE_SIZE = 500
# The largest id a filter accepts (a 64-bit key): a larger one would overflow SQLite's integers.
MAX_ID = 2**63 - 1


def IdFilter(description: str = ""):  # noqa: N802 - reads as a type in a schema
    """An optional id filter of a list, bounded so that no value reaches the database unchecked."""
    return Field(None, ge=1, le=MAX_ID, description=description)


class PageParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000, description="页码，从1开始")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="每页条数，最多500")


def paginate(queryset, params: PageParams, serialize=None) -> dict:
    """One page of a queryset (or of a list already built, e.g. rows with computed status)."""
    count = len(queryset) if isinstance(queryset, list | tuple) else queryset.count()
    start = (params.page - 1) * params.page_size
    if start and start >= count:
        if count == 0:
            return {"items": [], "count": 0}
        raise InvalidInput(f"页码超出范围：共 {count} 条，每页 {params.page_size} 条。", code="page_out_of_range")
    rows = list(queryset[start : start + params.page_size])
    return {"items": [serialize(r) for r in rows] if serialize else rows, "count": count}
