"""Telling volunteers things. Other apps call `notify`; a notice is written in the caller's
transaction, so a rolled-back change never leaves a notice behind."""

from django.utils import timezone

from wenming.people.models import Volunteer

from .models import Notice


def notify(volunteer: Volunteer | int, kind: str, title: str, body: str = "", url: str = "") -> Notice:
    return Notice.objects.create(
        volunteer_id=getattr(volunteer, "pk", volunteer), kind=kind, title=title[:100], body=body[:500], url=url[:200]
    )


def notify_many(volunteer_ids, kind: str, title: str, body: str = "", url: str = "") -> int:
    notices = [Notice(volunteer_id=v, kind=kind, title=title[:100], body=body[:500], url=url[:200]) for v in volunteer_ids]
    Notice.objects.bulk_create(notices, batch_size=500)
    return len(notices)


def mark_read(volunteer: Volunteer, notice_ids=None) -> int:
    qs = Notice.objects.filter(volunteer=volunteer, read_at=None)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=timezone.now())


def unread_count(volunteer: Volunteer | None) -> int:
    if volunteer is None:
        return 0
    return Notice.objects.filter(volunteer=volunteer, read_at=None).count()
