"""Writing the audit trail. Services call `record`; the request's address comes from context."""

from contextvars import ContextVar

from .models import AuditEntry

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def record(actor, action: str, obj=None, *, before=None, after=None, note: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=str(actor) if actor is not None else "系统",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
        note=note[:500],
        ip=current_ip.get(),
    )


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, before and after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
