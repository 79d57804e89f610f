"""API: the district's figures (数据统计)."""

from ninja import Router

router = Router(tags=["数据统计"])
