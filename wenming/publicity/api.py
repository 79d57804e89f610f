"""API: media reports (宣传报道)."""

from ninja import Router

router = Router(tags=["宣传报道"])
