"""The hash chain over service records, and its verification (`wenming verify-ledger`).

One chain per volunteer. A record's hash is HMAC-SHA-256, under the ledger key, of a
canonical JSON of the record's content and the previous record's hash:

    hash_n = HMAC-SHA256(key, canonical_json(content_n + {"prev_hash": hash_(n-1)}))

with hash_0 = 64 zeros. Canonical JSON: sorted keys, no spaces, UTF-8, datetimes in UTC
(ISO 8601, microseconds, "Z"), dates ISO, foreign keys as ids.

Why keyed: the code is open, so a plain SHA-256 chain can be recomputed end to end by
anyone who can write to the database; with the key (which lives with the application,
not in the database) a forged or edited row cannot be given a valid hash. The key is
WENMING_LEDGER_KEY when set, otherwise derived from WENMING_DATA_KEY — keep it as
carefully as that one.

The chain head (`LedgerChain`) holds the length and the last hash with a seal over
both, so records removed from the end of a chain are seen too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.conf import settings
from django.db.models import Count, Q, Sum

from .models import GENESIS_HASH, LedgerChain, PointEntry, PointMovement, ServiceRecord

HASH_VERSION = 1
# The content a record's hash covers, by attribute name (foreign keys by their id).
HASHED_FIELDS = (
    "volunteer_id",
    "sequence",
    "kind",
    "title",
    "content",
    "place",
    "beneficiaries",
    "service_date",
    "started_at",
    "ended_at",
    "window_start",
    "window_end",
    "minutes",
    "source_type",
    "source_id",
    "node_id",
    "responsible_person",
    "quality_rating",
    "recorded_by_id",
    "approved_by_id",
    "approved_at",
    "reason",
    "adjustment_of_id",
    "original_id",
    "created_at",
)


def ledger_key() -> bytes:
    key = getattr(settings, "WENMING_LEDGER_KEY", "") or ""
    if key:
        return key.encode()
    return hmac.new(settings.WENMING_DATA_KEY.encode(), b"wenming-ledger-chain-v1", hashlib.sha256).digest()


def _canonical_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledger record")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(content: dict, prev_hash: str) -> bytes:
    data = {name: _canonical_value(content[name]) for name in HASHED_FIELDS}
    data["prev_hash"] = prev_hash
    data["v"] = HASH_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(content: dict, prev_hash: str, key: bytes | None = None) -> str:
    return hmac.new(key or ledger_key(), canonical_json(content, prev_hash), hashlib.sha256).hexdigest()


def content_of(record: ServiceRecord) -> dict:
    return {name: getattr(record, name) for name in HASHED_FIELDS}


def head_seal(head: LedgerChain, key: bytes | None = None) -> str:
    message = (
        f"wenming-ledger-head|{head.volunteer_id}|{head.length}|{head.head_hash}|"
        f"{head.verified_minutes}|{head.recorded_minutes}|{head.services}"
    ).encode()
    return hmac.new(key or ledger_key(), message, hashlib.sha256).hexdigest()


# --- Verification ------------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # changed | removed | inserted | relinked | head | unbalanced
    message: str
    volunteer_id: int | None = None
    sequence: int | None = None
    record_id: int | None = None
    movement_id: int | None = None


@dataclass
class Report:
    chains: int = 0
    records: int = 0
    movements: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_chain(volunteer_id, rows, head, key, problems: list[Problem]) -> None:
    """Walk one volunteer's records in sequence order and compare them with the head."""
    from wenming.people.models import Volunteer

    def who() -> str:
        number = Volunteer.objects.filter(pk=volunteer_id).values_list("number", flat=True).first()
        return f"志愿者 {number}（id {volunteer_id}）" if number else f"志愿者 id {volunteer_id}"

    found = len(problems)
    known = head.length if head is not None else 0
    if head is None:
        problems.append(
            Problem("inserted", f"{who()}：有服务记录但没有链头，记录不是由本系统写入的。", volunteer_id)
        )
    elif not hmac.compare_digest(head.seal, head_seal(head, key)):
        problems.append(
            Problem("head", f"{who()}：链头（长度 {head.length}）的封印不符，链头被改动过。", volunteer_id)
        )
    expected, prev_hash, last_seq = 1, GENESIS_HASH, 0
    totals = {"verified": 0, "recorded": 0, "services": 0}
    for row in rows:
        totals[row["kind"]] = totals.get(row["kind"], 0) + row["minutes"]
        totals["services"] += row["adjustment_of_id"] is None
        seq, rid = row["sequence"], row["id"]

        def where():
            return f"{who()} 第 {seq} 条记录（id {rid}）"  # noqa: B023 — called within this iteration

        if seq == last_seq:
            problems.append(
                Problem("inserted", f"{where()}：序号重复，这条记录是被插入的。", volunteer_id, seq, rid)
            )
            continue
        if seq > expected:
            missing = f"第 {expected} 条" if seq == expected + 1 else f"第 {expected}–{seq - 1} 条"
            problems.append(
                Problem("removed", f"{who()}：{missing}记录缺失（被删除）。", volunteer_id, expected)
            )
        valid = hmac.compare_digest(record_hash(row, row["prev_hash"], key), row["hash"])
        if not valid:
            if head is not None and seq > known:
                problems.append(
                    Problem(
                        "inserted",
                        f"{where()}：超出本系统记入的链长（{known}），且哈希不符，这条记录是被插入的。",
                        volunteer_id,
                        seq,
                        rid,
                    )
                )
            else:
                problems.append(
                    Problem("changed", f"{where()}：内容与哈希不符，记录被改动过。", volunteer_id, seq, rid)
                )
        elif row["prev_hash"] != prev_hash:
            if seq == expected:  # no gap: the link itself was rewired
                problems.append(
                    Problem(
                        "relinked",
                        f"{where()}：与前一条记录的哈希链接不符，前面的记录被替换过。",
                        volunteer_id,
                        seq,
                        rid,
                    )
                )
        elif head is not None and seq > known:
            problems.append(
                Problem(
                    "inserted",
                    f"{where()}：超出本系统记入的链长（{known}），这条记录是被追加的。",
                    volunteer_id,
                    seq,
                    rid,
                )
            )
        prev_hash, last_seq, expected = row["hash"], seq, seq + 1
    if head is not None:
        if last_seq < known:
            missing = f"第 {known} 条" if last_seq + 1 == known else f"第 {last_seq + 1}–{known} 条"
            problems.append(
                Problem("removed", f"{who()}：链尾{missing}记录缺失（被删除）。", volunteer_id, last_seq + 1)
            )
        elif last_seq == known and known and prev_hash != head.head_hash:
            problems.append(
                Problem(
                    "changed",
                    f"{who()} 第 {known} 条记录：与链头记下的哈希不符，记录被替换过。",
                    volunteer_id,
                    known,
                )
            )
        recorded = (head.verified_minutes, head.recorded_minutes, head.services)
        actual = (totals["verified"], totals["recorded"], totals["services"])
        if len(problems) == found and recorded != actual:  # otherwise a consequence of what was found
            problems.append(
                Problem(
                    "head",
                    f"{who()}：链头记下的时长合计（核验{recorded[0]}、补录{recorded[1]}分钟，{recorded[2]}项服务）"
                    f"与记录（核验{actual[0]}、补录{actual[1]}分钟，{actual[2]}项服务）不符。",
                    volunteer_id,
                )
            )


def _chains(heads, records):
    """Merge the heads and the records, both in volunteer order: (volunteer_id, head, rows) per chain.
    One chain at a time in memory, whatever the number of volunteers."""
    heads, records = iter(heads), iter(records)
    head, row = next(heads, None), next(records, None)
    while head is not None or row is not None:
        ids = [
            x
            for x in (head.volunteer_id if head else None, row["volunteer_id"] if row else None)
            if x is not None
        ]
        volunteer_id = min(ids)
        this_head = None
        if head is not None and head.volunteer_id == volunteer_id:
            this_head, head = head, next(heads, None)
        rows = []
        while row is not None and row["volunteer_id"] == volunteer_id:
            rows.append(row)
            row = next(records, None)
        yield volunteer_id, this_head, rows


def verify_chains(
    volunteer_ids: Iterable[int] | None = None,
    advance: Callable[[int], None] | None = None,
    report: Report | None = None,
) -> Report:
    """Walk every chain (or those of `volunteer_ids`), streaming heads and records in volunteer order."""
    report = report or Report()
    key = ledger_key()
    records = ServiceRecord.objects.order_by("volunteer_id", "sequence", "id")
    heads = LedgerChain.objects.order_by("volunteer_id")
    if volunteer_ids is not None:
        volunteer_ids = list(volunteer_ids)
        records = records.filter(volunteer_id__in=volunteer_ids)
        heads = heads.filter(volunteer_id__in=volunteer_ids)
    fields = ["id", *HASHED_FIELDS, "prev_hash", "hash"]
    chains = _chains(heads.iterator(chunk_size=2000), records.values(*fields).iterator(chunk_size=2000))
    for volunteer_id, head, rows in chains:
        if not rows and (head is None or head.length == 0):
            continue
        _check_chain(volunteer_id, rows, head, key, report.problems)
        report.chains += 1
        report.records += len(rows)
        if advance:
            advance(len(rows))
    return report


def verify_points(advance: Callable[[int], None] | None = None, report: Report | None = None) -> Report:
    """Every movement is exactly two entries, equal and opposite."""
    report = report or Report()
    report.movements = PointMovement.objects.count()
    bad = (
        PointEntry.objects.values("movement_id")
        .annotate(n=Count("id"), total=Sum("amount"), positive=Count("id", filter=Q(amount__gt=0)))
        .exclude(n=2, total=0, positive=1)
        .order_by("movement_id")
    )
    for row in bad.iterator():
        report.problems.append(
            Problem(
                "unbalanced",
                f"积分变动 id {row['movement_id']}：{row['n']} 条分录，合计 {row['total']}，借贷不平衡。",
                movement_id=row["movement_id"],
            )
        )
    for movement_id in PointMovement.objects.filter(entries__isnull=True).values_list("id", flat=True):
        report.problems.append(
            Problem("unbalanced", f"积分变动 id {movement_id}：没有分录。", movement_id=movement_id)
        )
    if advance:
        advance(report.movements)
    return report


def verify_ledger(volunteer_ids=None, advance=None) -> Report:
    report = verify_chains(volunteer_ids, advance)
    if volunteer_ids is None:
        verify_points(advance, report)
    return report
