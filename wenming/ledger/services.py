"""Use cases of the ledger: the only place that writes service records and points.

- `record_verified` — verified hours, computed from a check-in and a check-out; the
  one way verified hours enter the ledger (no one can type them in).
- `request_recorded_hours` → `approve_hours_request` / `reject_hours_request` —
  recorded hours (补录), entered with a reason, approved by a second person.
- `request_adjustment` / `request_reversal` → the same approval — corrections.
- `transfer`, `award_bonus`, `reverse_movement` — points, double entry.
- `issue_certificate` — a service record certificate (志愿服务记录证明), sealed and numbered.

The ledger knows nothing of activities or needs beyond the `source_type`/`source_id`
it records. Callers that settle an activity check who may settle it; the ledger
checks the rules of hours and points.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from wenming.core import audit
from wenming.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from wenming.core.models import OrgNode
from wenming.core.scoping import require_manager
from wenming.core.services import next_in_sequence
from wenming.people.models import Volunteer

from . import rules, signals
from .chain import content_of, head_seal, ledger_key, record_hash
from .models import Account, Certificate, HoursRequest, LedgerChain, PointEntry, PointMovement, ServiceRecord

MAX_MINUTES = 10_000_000
SAME_APPROVER_MESSAGE = "补录或更正的时长须由录入人以外的另一名管理员审批，您不能审批自己录入的申请。"

# --- Small checks --------------------------------------------------------------------------------


def _text(value, limit: int, label: str, *, required: bool = False, code: str = "text_invalid") -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not value:
        raise InvalidInput(f"请填写{label}。", code=code)
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过{limit}字。", code=code)
    return value


def _aware(value, label: str, *, required: bool = True) -> datetime | None:
    if value is None:
        if required:
            raise InvalidInput(f"请填写{label}。", code="time_missing")
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(f"{label}格式不正确。", code="time_invalid")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _minutes(value) -> int:
    """Whole minutes from an int, an integral float or a string of digits."""
    minutes = None
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    elif isinstance(value, float) and value.is_integer():
        minutes = int(value)
    elif isinstance(value, str) and re.fullmatch(r"-?\d{1,7}", value.strip()):
        minutes = int(value.strip())
    if minutes is None or abs(minutes) > MAX_MINUTES:
        raise InvalidInput("时长须为整数分钟。", code="minutes_invalid")
    return minutes


def _window(window_start, window_end) -> tuple[datetime, datetime, int]:
    start = _aware(window_start, "活动开始时间")
    end = _aware(window_end, "活动结束时间")
    if end <= start:
        raise InvalidInput("活动结束时间须晚于开始时间。", code="window_invalid")
    return start, end, rules.window_minutes(start, end)


def _rating(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise InvalidInput("服务质量评价须为1至5星。", code="rating_invalid")
    return rating


def _not_own(by, volunteer: Volunteer) -> None:
    if volunteer.user_id is not None and volunteer.user_id == getattr(by, "pk", None):
        raise Forbidden("不能为自己录入、更正或审批服务时长。", code="self_entry")


def _hours_text(minutes: int) -> str:
    return f"{minutes / 60:g}小时" if minutes % 30 == 0 else f"{minutes}分钟"


# --- The chain ----------------------------------------------------------------------------------


def _lock_chain(volunteer: Volunteer) -> LedgerChain:
    """Lock (creating on first use) the head of a volunteer's chain; must run in a transaction."""
    LedgerChain.objects.get_or_create(
        volunteer=volunteer, defaults={"seal": head_seal(LedgerChain(volunteer_id=volunteer.pk))}
    )
    return LedgerChain.objects.select_for_update().get(volunteer=volunteer)


def _append(head: LedgerChain, **fields) -> ServiceRecord:
    """Append one record to a locked chain: next sequence, link to the head, seal, move the head."""
    record = ServiceRecord(
        volunteer_id=head.volunteer_id, sequence=head.length + 1, prev_hash=head.head_hash, **fields
    )
    record.hash = record_hash(content_of(record), record.prev_hash)
    record.save()
    head.length = record.sequence
    head.head_hash = record.hash
    if record.kind == ServiceRecord.Kind.VERIFIED:
        head.verified_minutes += record.minutes
    else:
        head.recorded_minutes += record.minutes
    head.services += not record.is_adjustment
    head.seal = head_seal(head)
    head.updated_at = timezone.now()
    head.save(
        update_fields=[
            "length",
            "head_hash",
            "verified_minutes",
            "recorded_minutes",
            "services",
            "seal",
            "updated_at",
        ]
    )
    return record


def _source_minutes(volunteer_id: int, source_type: str, source_id: str) -> int:
    return (
        ServiceRecord.objects.filter(
            volunteer_id=volunteer_id, source_type=source_type, source_id=source_id
        ).aggregate(t=Sum("minutes"))["t"]
        or 0
    )


def _tree_minutes(root: ServiceRecord, kind: str | None = None) -> int:
    qs = ServiceRecord.objects.filter(Q(pk=root.pk) | Q(original=root))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.aggregate(t=Sum("minutes"))["t"] or 0


def _check_source_cap(volunteer_id: int, source_type: str, source_id: str, adding: int, cap: int) -> None:
    """For one volunteer and one source, verified and recorded minutes together stay within the window."""
    if not source_id or adding <= 0:
        return
    existing = _source_minutes(volunteer_id, source_type, source_id)
    if existing + adding > cap:
        raise InvalidInput(
            f"该志愿者在此项服务已记入{_hours_text(existing)}，再记入{_hours_text(adding)}将超过活动时长"
            f"（{_hours_text(cap)}）。核验时长与补录时长合计不能超过活动时长。",
            code="over_window",
            details={"existing_minutes": existing, "adding_minutes": adding, "window_minutes": cap},
        )


def _after_append(head: LedgerChain, record: ServiceRecord, by) -> None:
    """Points for the record, star check, events on commit. Runs under the chain lock."""
    _points_for_record(record, by)
    total_after = head.verified_minutes + head.recorded_minutes
    total_before = total_after - record.minutes
    level_before, level_after = rules.star_level(total_before), rules.star_level(total_after)
    volunteer = record.volunteer
    transaction.on_commit(
        lambda: signals.hours_settled.send(sender=ServiceRecord, record=record, volunteer=volunteer)
    )
    if level_after > level_before:
        audit.record(
            by, "ledger.star.reached", volunteer, after={"level": level_after, "total_minutes": total_after}
        )
        transaction.on_commit(
            lambda: signals.star_reached.send(
                sender=ServiceRecord,
                volunteer=volunteer,
                level=level_after,
                previous_level=level_before,
                total_minutes=total_after,
            )
        )


def _record_snapshot(record: ServiceRecord) -> dict:
    return {
        "volunteer": record.volunteer_id,
        "sequence": record.sequence,
        "kind": record.kind,
        "title": record.title,
        "minutes": record.minutes,
        "source": f"{record.source_type}:{record.source_id}",
        "adjustment_of": record.adjustment_of_id,
        "hash": record.hash,
    }


# --- Verified hours -------------------------------------------------------------------------------


def record_verified(
    by,
    *,
    volunteer: Volunteer,
    node,
    title: str,
    check_in: datetime,
    check_out: datetime,
    window_start: datetime,
    window_end: datetime,
    source_type: str,
    source_id: str,
    content: str = "",
    place: str = "",
    beneficiaries: str = "",
    responsible_person: str = "",
    quality_rating: int | None = None,
) -> ServiceRecord | None:
    """Verified hours from a check-in and a check-out, approved by the organiser `by`.

    Served minutes are computed here (rules.served_minutes with the configured step and
    minimum share); a service below the minimum share gives no record (None). One
    verified record per volunteer and source: settling twice is refused.
    """
    if not getattr(by, "is_authenticated", False):
        raise Forbidden("请先登录。", code="not_authenticated", status=401)
    title = _text(title, 200, "服务名称", required=True, code="title_missing")
    source_type = _text(source_type, 20, "来源类型", required=True, code="source_missing")
    source_id = _text(source_id, 40, "来源编号", required=True, code="source_missing")
    start, end, cap = _window(window_start, window_end)
    check_in = _aware(check_in, "签到时间")
    check_out = _aware(check_out, "签退时间")
    if check_out < check_in:
        raise InvalidInput("签退时间不能早于签到时间。", code="checkout_before_checkin")
    minutes = rules.served_minutes(
        check_in, check_out, start, end, rules.configured_step_minutes(), rules.configured_min_share()
    )
    if minutes <= 0:
        return None
    fields = {
        "content": _text(content, 2000, "服务内容"),
        "place": _text(place, 200, "服务地点"),
        "beneficiaries": _text(beneficiaries, 200, "服务对象"),
        "responsible_person": _text(responsible_person, 50, "负责人"),
        "quality_rating": _rating(quality_rating),
    }
    with transaction.atomic():
        head = _lock_chain(volunteer)
        if ServiceRecord.objects.filter(
            volunteer=volunteer,
            source_type=source_type,
            source_id=source_id,
            kind=ServiceRecord.Kind.VERIFIED,
            adjustment_of=None,
        ).exists():
            raise Conflict("该志愿者在此项服务的核验时长已经记入，不能重复结算。", code="already_settled")
        _check_source_cap(volunteer.pk, source_type, source_id, minutes, cap)
        now = timezone.now()
        record = _append(
            head,
            kind=ServiceRecord.Kind.VERIFIED,
            node=node,
            title=title,
            service_date=timezone.localdate(start),
            started_at=check_in,
            ended_at=check_out,
            window_start=start,
            window_end=end,
            minutes=minutes,
            source_type=source_type,
            source_id=source_id,
            recorded_by=by,
            approved_by=by,
            approved_at=now,
            created_at=now,
            **fields,
        )
        audit.record(by, "ledger.verified.record", record, after=_record_snapshot(record))
        _after_append(head, record, by)
    return record


# --- Recorded hours and corrections --------------------------------------------------------------


def request_recorded_hours(by, *, node, **fields) -> HoursRequest:
    """Enter recorded hours (a forgotten check-out, paper records, history) for approval by someone else:
    an admin of `node` does it; the fields are those of `request_reported_hours`.

    The minutes can never exceed the window (the activity's length), and for one
    volunteer and one source verified and recorded minutes together stay within it.
    """
    require_manager(by, node)
    return request_reported_hours(by, node=node, **fields)


def request_reported_hours(
    by,
    *,
    volunteer: Volunteer,
    node,
    title: str,
    window_start: datetime,
    window_end: datetime,
    minutes: int,
    reason: str,
    source_type: str = "",
    source_id: str = "",
    content: str = "",
    place: str = "",
    beneficiaries: str = "",
    responsible_person: str = "",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> HoursRequest:
    """Recorded hours reported by whoever served (a team leader completing a need): the caller has
    checked that `by` speaks for the service; an admin other than `by` approves them."""
    _not_own(by, volunteer)
    title = _text(title, 200, "服务名称", required=True, code="title_missing")
    reason = _text(reason, 500, "补录原因", required=True, code="reason_required")
    source_type = _text(source_type, 20, "来源类型") or "history"
    source_id = _text(source_id, 40, "来源编号")
    start, end, cap = _window(window_start, window_end)
    minutes = _minutes(minutes)
    if minutes <= 0:
        raise InvalidInput("补录时长须大于0分钟。", code="minutes_invalid")
    if minutes > cap:
        raise InvalidInput(
            f"补录时长（{_hours_text(minutes)}）不能超过活动时长（{_hours_text(cap)}）。",
            code="over_window",
            details={"minutes": minutes, "window_minutes": cap},
        )
    started_at = _aware(started_at, "开始时间", required=False)
    ended_at = _aware(ended_at, "结束时间", required=False)
    if started_at and ended_at and ended_at < started_at:
        raise InvalidInput("结束时间不能早于开始时间。", code="time_invalid")
    with transaction.atomic():
        _check_source_cap(volunteer.pk, source_type, source_id, minutes, cap)
        if (
            source_id
            and HoursRequest.objects.filter(
                volunteer=volunteer,
                source_type=source_type,
                source_id=source_id,
                status=HoursRequest.Status.PENDING,
            ).exists()
        ):
            raise Conflict("该志愿者在此项服务已有待审批的补录申请。", code="request_pending")
        req = HoursRequest.objects.create(
            kind=HoursRequest.Kind.RECORDED,
            volunteer=volunteer,
            node=node,
            title=title,
            content=_text(content, 2000, "服务内容"),
            place=_text(place, 200, "服务地点"),
            beneficiaries=_text(beneficiaries, 200, "服务对象"),
            responsible_person=_text(responsible_person, 50, "负责人"),
            window_start=start,
            window_end=end,
            started_at=started_at,
            ended_at=ended_at,
            minutes=minutes,
            source_type=source_type,
            source_id=source_id,
            reason=reason,
            requested_by=by,
        )
        audit.record(by, "ledger.recorded.request", req, after=_request_snapshot(req), note=reason)
        transaction.on_commit(lambda: signals.hours_request_submitted.send(sender=HoursRequest, request=req))
    return req


def request_adjustment(by, record: ServiceRecord, *, minutes: int, reason: str) -> HoursRequest:
    """A correction of an approved record: a new record of ±minutes that refers to it, after approval."""
    require_manager(by, record.node)
    _not_own(by, record.volunteer)
    reason = _text(reason, 500, "更正原因", required=True, code="reason_required")
    minutes = _minutes(minutes)
    if minutes == 0:
        raise InvalidInput("更正时长不能为0。", code="minutes_invalid")
    root = record.original or record
    with transaction.atomic():
        _check_adjustment(record, root, minutes)
        req = HoursRequest.objects.create(
            kind=HoursRequest.Kind.ADJUSTMENT,
            volunteer=record.volunteer,
            node=record.node,
            title=_text(f"更正：{root.title}", 200, "服务名称"),
            window_start=root.window_start,
            window_end=root.window_end,
            minutes=minutes,
            source_type=root.source_type,
            source_id=root.source_id,
            adjustment_of=record,
            reason=reason,
            requested_by=by,
        )
        audit.record(by, "ledger.adjustment.request", req, after=_request_snapshot(req), note=reason)
        transaction.on_commit(lambda: signals.hours_request_submitted.send(sender=HoursRequest, request=req))
    return req


def request_reversal(by, adjustment: ServiceRecord, *, reason: str) -> HoursRequest:
    """Reverse a correction: a correction of the opposite minutes (its points are reversed with it)."""
    if not adjustment.is_adjustment:
        raise InvalidInput("只能冲正更正记录；原始记录请录入更正。", code="not_an_adjustment")
    if ServiceRecord.objects.filter(adjustment_of=adjustment, minutes=-adjustment.minutes).exists():
        raise Conflict("该更正记录已经冲正过。", code="already_reversed")
    return request_adjustment(by, adjustment, minutes=-adjustment.minutes, reason=reason)


def _adjustment_kind(target: ServiceRecord, minutes: int) -> str:
    """A reduction comes off the kind it corrects; reversing a reduction restores that kind;
    any other addition is recorded hours (no one can type in verified hours)."""
    if minutes < 0:
        return target.kind
    if target.is_adjustment and minutes == -target.minutes:
        return target.kind
    return ServiceRecord.Kind.RECORDED


def _check_adjustment(target: ServiceRecord, root: ServiceRecord, minutes: int) -> None:
    kind = _adjustment_kind(target, minutes)
    if minutes < 0:
        remaining = _tree_minutes(root, kind)
        if remaining + minutes < 0:
            label = ServiceRecord.Kind(kind).label
            raise InvalidInput(
                f"更正后该记录的{label}将小于0（现有{_hours_text(remaining)}）。",
                code="adjust_below_zero",
                details={"remaining_minutes": remaining},
            )
    elif root.window_start and root.window_end:
        cap = rules.window_minutes(root.window_start, root.window_end)
        if root.source_id:
            _check_source_cap(root.volunteer_id, root.source_type, root.source_id, minutes, cap)
        elif _tree_minutes(root) + minutes > cap:
            raise InvalidInput(
                f"更正后的时长将超过活动时长（{_hours_text(cap)}）。",
                code="over_window",
                details={"window_minutes": cap},
            )


def _request_snapshot(req: HoursRequest) -> dict:
    return {
        "kind": req.kind,
        "status": req.status,
        "volunteer": req.volunteer_id,
        "node": req.node_id,
        "title": req.title,
        "minutes": req.minutes,
        "source": f"{req.source_type}:{req.source_id}",
        "adjustment_of": req.adjustment_of_id,
        "window": [
            req.window_start.isoformat() if req.window_start else None,
            req.window_end.isoformat() if req.window_end else None,
        ],
    }


def _lock_pending(request: HoursRequest) -> HoursRequest:
    try:
        req = HoursRequest.objects.select_for_update().get(pk=request.pk)
    except HoursRequest.DoesNotExist:
        raise NotFound("申请不存在。")
    if req.status != HoursRequest.Status.PENDING:
        raise Conflict(f"该申请已{req.get_status_display()}，不能重复审批。", code="already_decided")
    return req


def approve_hours_request(by, request: HoursRequest, *, note: str = "") -> ServiceRecord:
    """The second person approves: the record enters the ledger, with its points."""
    require_manager(by, request.node)
    note = _text(note, 500, "审批意见")
    with transaction.atomic():
        req = _lock_pending(request)
        if req.requested_by_id == by.pk:
            raise Forbidden(SAME_APPROVER_MESSAGE, code="same_approver")
        volunteer = req.volunteer
        _not_own(by, volunteer)
        head = _lock_chain(volunteer)
        now = timezone.now()
        common = {
            "node_id": req.node_id,
            "recorded_by_id": req.requested_by_id,
            "approved_by": by,
            "approved_at": now,
            "reason": req.reason,
            "created_at": now,
        }
        if req.kind == HoursRequest.Kind.RECORDED:
            cap = rules.window_minutes(req.window_start, req.window_end)
            if req.minutes > cap:  # cannot happen through request_recorded_hours; guard anyway
                raise InvalidInput("补录时长不能超过活动时长。", code="over_window")
            _check_source_cap(volunteer.pk, req.source_type, req.source_id, req.minutes, cap)
            record = _append(
                head,
                kind=ServiceRecord.Kind.RECORDED,
                title=req.title,
                content=req.content,
                place=req.place,
                beneficiaries=req.beneficiaries,
                responsible_person=req.responsible_person,
                service_date=timezone.localdate(req.started_at or req.window_start),
                started_at=req.started_at,
                ended_at=req.ended_at,
                window_start=req.window_start,
                window_end=req.window_end,
                minutes=req.minutes,
                source_type=req.source_type,
                source_id=req.source_id,
                **common,
            )
            action = "ledger.recorded.approve"
        else:
            target = req.adjustment_of
            root = target.original or target
            _check_adjustment(target, root, req.minutes)
            record = _append(
                head,
                kind=_adjustment_kind(target, req.minutes),
                title=req.title,
                beneficiaries=root.beneficiaries,
                place=root.place,
                responsible_person=root.responsible_person,
                service_date=timezone.localdate(now),
                window_start=root.window_start,
                window_end=root.window_end,
                minutes=req.minutes,
                source_type=root.source_type,
                source_id=root.source_id,
                adjustment_of=target,
                original=root,
                **common,
            )
            action = "ledger.adjustment.approve"
        req.status = HoursRequest.Status.APPROVED
        req.decided_by = by
        req.decided_at = now
        req.decision_note = note
        req.record = record
        req.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "record"])
        audit.record(by, action, req, after={**_record_snapshot(record), "record": record.pk}, note=note)
        _after_append(head, record, by)
        transaction.on_commit(lambda: signals.hours_request_decided.send(sender=HoursRequest, request=req))
    return record


def reject_hours_request(by, request: HoursRequest, *, reason: str) -> HoursRequest:
    require_manager(by, request.node)
    reason = _text(reason, 500, "驳回理由", required=True, code="reason_required")
    with transaction.atomic():
        req = _lock_pending(request)
        req.status = HoursRequest.Status.REJECTED
        req.decided_by = by
        req.decided_at = timezone.now()
        req.decision_note = reason
        req.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        action = (
            "ledger.recorded.reject" if req.kind == HoursRequest.Kind.RECORDED else "ledger.adjustment.reject"
        )
        audit.record(by, action, req, after={"status": req.status}, note=reason)
        transaction.on_commit(lambda: signals.hours_request_decided.send(sender=HoursRequest, request=req))
    return req


# --- Points -------------------------------------------------------------------------------------


def _system_account(kind: str, name: str) -> Account:
    account, _ = Account.objects.get_or_create(kind=kind, volunteer=None, defaults={"name": name})
    return account


def issuing_account() -> Account:
    return _system_account(Account.Kind.DISTRICT_ISSUING, "区积分发放账户")


def mall_account() -> Account:
    return _system_account(Account.Kind.MALL, "积分超市账户")


def account_for(volunteer: Volunteer) -> Account:
    account, _ = Account.objects.get_or_create(
        volunteer=volunteer,
        defaults={"kind": Account.Kind.VOLUNTEER, "name": f"{volunteer.name}（{volunteer.number}）"},
    )
    return account


def balance(account: Account) -> int:
    """A balance is the sum of the account's entries, never a stored number."""
    return int(PointEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or 0)


def transfer(
    from_account: Account,
    to_account: Account,
    points: int,
    *,
    kind: str,
    memo: str,
    by=None,
    record: ServiceRecord | None = None,
    source_type: str = "",
    source_id: str = "",
    rate=None,
    key: str | None = None,
    reverses: PointMovement | None = None,
    check_balance: bool = False,
) -> PointMovement:
    """Move `points` (> 0) between two accounts: one movement, two entries equal and opposite.

    With `check_balance` the paying account is locked and may not go below zero (the
    mall's redemptions use it; the issuing account and corrections of hours do not).
    With `key`, the movement happens once: a second call returns the first movement.
    """
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidInput("积分须为正整数。", code="points_invalid")
    if from_account.pk == to_account.pk:
        raise InvalidInput("转出与转入账户不能相同。", code="same_account")
    with transaction.atomic():
        if key:
            existing = PointMovement.objects.filter(key=key).first()
            if existing:
                return existing
        if check_balance:
            Account.objects.select_for_update().get(pk=from_account.pk)
            available = balance(from_account)
            if available < points:
                raise Conflict(
                    f"积分不足：现有{available}分，需要{points}分。",
                    code="insufficient_points",
                    details={"balance": available, "needed": points},
                )
        try:
            with transaction.atomic():
                movement = PointMovement.objects.create(
                    kind=kind,
                    memo=memo[:200],
                    record=record,
                    source_type=source_type[:20],
                    source_id=source_id[:40],
                    rate=rate,
                    key=key,
                    reverses=reverses,
                    created_by=by if getattr(by, "pk", None) else None,
                )
                PointEntry.objects.bulk_create(
                    [
                        PointEntry(movement=movement, account=from_account, amount=-points),
                        PointEntry(movement=movement, account=to_account, amount=points),
                    ]
                )
        except IntegrityError:
            existing = PointMovement.objects.filter(key=key).first() if key else None
            if existing:
                return existing
            if reverses is not None:
                raise Conflict("该积分变动已经冲正过。", code="already_reversed")
            raise
        transaction.on_commit(lambda: signals.points_moved.send(sender=PointMovement, movement=movement))
    return movement


def _tree_rate(root: ServiceRecord) -> Fraction:
    rate = (
        PointMovement.objects.filter(Q(record=root) | Q(record__original=root), rate__isnull=False)
        .order_by("id")
        .values_list("rate", flat=True)
        .first()
    )
    return Fraction(str(rate)) if rate is not None else rules.points_per_hour()


def _points_for_record(record: ServiceRecord, by) -> PointMovement | None:
    """Points follow the net minutes of a record and its corrections: after any record of the
    tree, the tree has earned exactly floor(net minutes × rate / 60) points, at the rate of
    the tree's first award. So a reversed correction gives back exactly what it took."""
    root = record.original or record
    rate = _tree_rate(root)
    net_after = _tree_minutes(root)
    net_before = net_after - record.minutes
    delta = rules.points_for_minutes(net_after, rate) - rules.points_for_minutes(net_before, rate)
    if delta == 0:
        return None
    volunteer_account, issuing = account_for(record.volunteer), issuing_account()
    kind = PointMovement.Kind.ADJUSTMENT if record.is_adjustment else PointMovement.Kind.HOURS
    label = "时长更正" if record.is_adjustment else "服务时长积分"
    memo = f"{label}：{record.title}（{'+' if record.minutes > 0 else ''}{_hours_text(record.minutes)}）"
    source = {
        "record": record,
        "source_type": record.source_type,
        "source_id": record.source_id,
        "rate": (Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(Decimal("0.01")),
        "key": f"record:{record.pk}",
        "by": by,
    }
    if delta > 0:
        return transfer(issuing, volunteer_account, delta, kind=kind, memo=memo, **source)
    return transfer(volunteer_account, issuing, -delta, kind=kind, memo=memo, **source)


def award_bonus(
    by, volunteer: Volunteer, bonus: str, *, source_type: str, source_id: str, note: str = ""
) -> PointMovement:
    """A configured bonus (e.g. a well-rated need, a festival activity), once per volunteer and source.

    `by` is None when a domain event awards it (the system); otherwise a manager in reach."""
    if by is not None:
        require_manager(by, volunteer.station)
        _not_own(by, volunteer)
    configured = rules.bonuses()
    if bonus not in configured:
        raise InvalidInput("奖励积分项目不存在。", code="bonus_unknown")
    label, points = configured[bonus]
    if points <= 0:
        raise InvalidInput("该奖励积分项目未启用。", code="bonus_disabled")
    source_type = _text(source_type, 20, "来源类型", required=True, code="source_missing")
    source_id = _text(source_id, 40, "来源编号", required=True, code="source_missing")
    memo = f"奖励积分：{label}" + (f"（{_text(note, 100, '说明')}）" if note else "")
    key = f"bonus:{bonus}:{volunteer.pk}:{source_type}:{source_id}"
    with transaction.atomic():
        existed = PointMovement.objects.filter(key=key).first()
        movement = transfer(
            issuing_account(),
            account_for(volunteer),
            points,
            kind=PointMovement.Kind.BONUS,
            memo=memo,
            by=by,
            source_type=source_type,
            source_id=source_id,
            key=key,
        )
        if existed is None:
            audit.record(
                by,
                "ledger.points.bonus",
                movement,
                after={"volunteer": volunteer.pk, "bonus": bonus, "points": points},
            )
    return movement


def reverse_movement(by, movement: PointMovement, *, reason: str) -> PointMovement:
    """Reverse a bonus or another non-hours movement: a new movement, equal and opposite.

    Points of hours change only through corrections of hours (request_adjustment)."""
    reason = _text(reason, 200, "冲正原因", required=True, code="reason_required")
    if movement.kind in (PointMovement.Kind.HOURS, PointMovement.Kind.ADJUSTMENT):
        raise InvalidInput("时长积分随时长更正自动调整，请录入时长更正。", code="use_adjustment")
    if movement.kind == PointMovement.Kind.REVERSAL:
        raise InvalidInput("冲正记录不能再冲正。", code="not_reversible")
    entries = list(movement.entries.select_related("account__volunteer"))
    volunteers = [e.account.volunteer for e in entries if e.account.volunteer_id]
    if volunteers:
        for volunteer in volunteers:
            require_manager(by, volunteer.station)
    else:
        require_manager(by, None)
    payer = next(e for e in entries if e.amount < 0)
    payee = next(e for e in entries if e.amount > 0)
    with transaction.atomic():
        if PointMovement.objects.filter(reverses=movement).exists():
            raise Conflict("该积分变动已经冲正过。", code="already_reversed")
        reversal = transfer(
            payee.account,
            payer.account,
            payee.amount,
            kind=PointMovement.Kind.REVERSAL,
            memo=f"冲正：{movement.memo}"[:200],
            by=by,
            source_type=movement.source_type,
            source_id=movement.source_id,
            reverses=movement,
        )
        audit.record(
            by,
            "ledger.points.reverse",
            reversal,
            after={"reverses": movement.pk, "points": payee.amount},
            note=reason,
        )
    return reversal


# --- Certificates (志愿服务记录证明) ----------------------------------------------------------------

CERTIFICATE_MAX_YEARS = 50
CERTIFICATE_MAX_LINES = 5000
CERTIFICATE_DAILY_LIMIT = 20  # certificates a volunteer may request for themselves in a day


def _period(start, end) -> tuple[date, date]:
    if not isinstance(start, date) or not isinstance(end, date):
        raise InvalidInput("请填写证明期间的起止日期。", code="period_missing")
    start = start.date() if isinstance(start, datetime) else start
    end = end.date() if isinstance(end, datetime) else end
    if end < start:
        raise InvalidInput("截止日期不能早于起始日期。", code="period_invalid")
    if end > timezone.localdate():
        raise InvalidInput("截止日期不能晚于今天。", code="period_future")
    if (end - start).days > CERTIFICATE_MAX_YEARS * 366:
        raise InvalidInput(f"证明期间不能超过{CERTIFICATE_MAX_YEARS}年。", code="period_too_long")
    return start, end


def _issuing_node(node_ids: set[int], fallback):
    """The lowest organisation above every organisation that recorded a line (谁记录谁证明)."""
    paths = list(OrgNode.objects.filter(pk__in=node_ids).values_list("path", flat=True))
    prefix = os.path.commonprefix(paths) if paths else ""
    prefix = prefix[: len(prefix) - len(prefix) % OrgNode.steplen]
    return OrgNode.objects.filter(path=prefix).first() if prefix else fallback


def certificate_hash(number: str, snapshot: dict) -> str:
    """HMAC (ledger key) over the certificate's number and content, as canonical JSON."""
    message = json.dumps(
        {"number": number, "snapshot": snapshot}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    return hmac.new(ledger_key(), message, hashlib.sha256).hexdigest()


def certificate_is_intact(cert: Certificate) -> bool:
    return hmac.compare_digest(cert.content_hash, certificate_hash(cert.number, cert.snapshot))


def issue_certificate(by, volunteer: Volunteer, start, end) -> Certificate:
    """Issue a service record certificate for `volunteer` over [start, end] (dates, inclusive).

    The volunteer may request their own; a manager may issue one for a volunteer of a station
    in reach. The certificate keeps a snapshot of what it certifies (lines and totals, the
    name, the masked ID number), is numbered WM-<year>-<6 digits> from a row-locked counter,
    is sealed with a keyed hash and audited. Its issuing organisation is the lowest
    organisation above every organisation that recorded one of its services.
    """
    from .queries import certificate_lines

    if not getattr(by, "is_authenticated", False):
        raise Forbidden("请先登录。", code="not_authenticated", status=401)
    own = volunteer.user_id is not None and volunteer.user_id == by.pk
    if not own:
        require_manager(by, volunteer.station)
    start, end = _period(start, end)
    if own:
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        if (
            Certificate.objects.filter(volunteer=volunteer, issued_by=by, issued_at__gte=today).count()
            >= CERTIFICATE_DAILY_LIMIT
        ):
            raise RateLimited(
                f"今天已出具{CERTIFICATE_DAILY_LIMIT}份证明，请明天再申请，或下载已出具的证明。",
                code="certificate_limit",
            )
    lines = certificate_lines(volunteer, start, end, limit=CERTIFICATE_MAX_LINES + 1)
    if not lines:
        raise InvalidInput("该期间没有服务记录，无法出具证明。", code="no_records")
    if len(lines) > CERTIFICATE_MAX_LINES:
        raise InvalidInput(
            f"该期间的服务记录超过{CERTIFICATE_MAX_LINES}条，请缩短证明期间，分次出具。",
            code="too_many_lines",
        )
    issuer = _issuing_node({line.pop("node_id") for line in lines}, volunteer.station)
    verified = sum(line["verified"] for line in lines)
    recorded_ = sum(line["recorded"] for line in lines)
    now = timezone.now()
    snapshot = {
        "v": 1,
        "volunteer": {
            "name": volunteer.name,
            "gender": volunteer.get_gender_display(),
            "id_type": volunteer.id_type,
            "id_number_masked": volunteer.id_number_masked,
            "number": volunteer.number,
        },
        "period": [start.isoformat(), end.isoformat()],
        "issuer": {
            "name": issuer.name,
            "division_code": issuer.division_code,
            "responsible": issuer.secretary,
            "handler": "本人申请，平台自助出具" if own else str(by),
        },
        "issued_at": timezone.localtime(now).isoformat(),
        "lines": lines,
        "totals": {
            "verified_minutes": verified,
            "recorded_minutes": recorded_,
            "total_minutes": verified + recorded_,
            "services": len(lines),
        },
    }
    with transaction.atomic():
        year = timezone.localdate(now).year
        number = f"WM-{year}-{next_in_sequence(f'certificate-{year}'):06d}"
        cert = Certificate.objects.create(
            number=number,
            volunteer=volunteer,
            period_start=start,
            period_end=end,
            node=issuer,
            issued_by=by,
            issued_at=now,
            verified_minutes=verified,
            recorded_minutes=recorded_,
            services=len(lines),
            snapshot=snapshot,
            content_hash=certificate_hash(number, snapshot),
        )
        audit.record(
            by,
            "ledger.certificate.issue",
            cert,
            after={
                "number": number,
                "volunteer": volunteer.pk,
                "period": snapshot["period"],
                "node": issuer.pk,
                **snapshot["totals"],
            },
        )
    return cert
