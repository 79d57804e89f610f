"""Check-in and check-out (签到/签退) by scanning the organiser's changing QR code.

The code carries a token `<slot>.<mac>`: the slot is the 30-second interval it was made
in, the mac an HMAC of the activity, the kind (in/out) and the slot. A scan is accepted
with the token of its own slot or the one before, so a code is good for 30–60 seconds.
A scan's time is the phone's (`scanned_at`, for scans taken offline and sent later),
but it must fall within the token's slots: the phone cannot claim a time it did not
see the code at.

Every scan carries the phone's own id; a scan id seen before returns what the first one
did, so repeats and late copies apply once. Unique indexes keep a volunteer checked in
once per activity and at one place at a time, and a scan id used once: when two scans of
one volunteer race (two phones, one scan sent twice), the second one's insert waits for
the first, fails, and the scan runs again, now seeing what the first one did.
"""

from __future__ import annotations

import functools
import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.crypto import salted_hmac

from wenming.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from wenming.people.models import Volunteer

from .models import Activity, Attendance, Scan, SignUp
from .services import _volunteer_of, expire_open_checkins, require_organiser

SCAN_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLOCK_SKEW = timedelta(minutes=2)  # a phone's clock may run this much ahead
MAX_OFFLINE = timedelta(days=3)  # a scan older than this when it arrives is refused


def slot_seconds() -> int:
    return settings.WENMING_CHECKIN_TOKEN_SECONDS


def slot_of(moment: datetime) -> int:
    return int(moment.timestamp()) // slot_seconds()


def _mac(activity_id: int, kind: str, slot: int) -> str:
    return salted_hmac("wenming.checkin", f"{activity_id}:{kind}:{slot}", algorithm="sha256").hexdigest()[:20]


def token_for(activity_id: int, kind: str, moment: datetime | None = None) -> str:
    slot = slot_of(moment or timezone.now())
    return f"{slot}.{_mac(activity_id, kind, slot)}"


def token_expires_at(moment: datetime | None = None) -> datetime:
    """When the current token stops being shown (it is accepted one slot longer)."""
    slot = slot_of(moment or timezone.now())
    return datetime.fromtimestamp((slot + 1) * slot_seconds(), tz=timezone.get_current_timezone())


def scan_url(activity_id: int, kind: str, token: str) -> str:
    return f"/a/{activity_id}/scan/?k={kind}&t={token}"


def _check_token(activity_id: int, kind: str, token: str, scanned_at: datetime) -> None:
    match = re.fullmatch(r"(\d{1,12})\.([0-9a-f]{20})", token or "")
    if not match:
        raise InvalidInput("二维码无效，请扫描活动现场的签到二维码。", code="token_invalid")
    slot = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _mac(activity_id, kind, slot)):
        other = "out" if kind == "in" else "in"
        if hmac.compare_digest(match.group(2), _mac(activity_id, other, slot)):
            raise InvalidInput(
                "这是签退二维码，请扫描签到二维码。" if kind == "in" else "这是签到二维码，请扫描签退二维码。",
                code="token_wrong_kind",
            )
        raise InvalidInput("二维码无效，请扫描本活动现场的二维码。", code="token_invalid")
    if slot_of(scanned_at) - slot not in (0, 1):
        raise InvalidInput("二维码已过期，请重新扫描现场屏幕上的最新二维码。", code="token_expired")


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _position(lat, lng) -> tuple[float, float] | None:
    if lat is None and lng is None:
        return None
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        raise InvalidInput("定位数据格式不正确。", code="position_invalid")
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("定位数据格式不正确。", code="position_invalid")
    return lat, lng


def _distance_to_site(activity: Activity, position) -> int | None:
    site = activity.site
    if position is None or site is None or site.lat is None or site.lng is None:
        return None
    d = distance_m(position[0], position[1], site.lat, site.lng)
    if d > site.radius_m:
        raise Forbidden(
            f"您距离活动地点“{site.name}”约{round(d)}米，超出{site.radius_m}米的签到范围，请到现场后再扫码。",
            code="out_of_range",
            details={"distance_m": round(d), "radius_m": site.radius_m},
        )
    return round(d)


def _scanned_at(value, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise InvalidInput("扫码时间格式不正确。", code="scanned_at_invalid")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + CLOCK_SKEW:
        raise InvalidInput("扫码时间晚于当前时间，请检查手机时间设置。", code="scanned_at_invalid")
    if value < now - MAX_OFFLINE:
        raise InvalidInput("该扫码记录已超过3天，不能再提交，请联系活动组织者补录。", code="scan_too_old")
    return value


@dataclass
class ScanResult:
    attendance: Attendance
    kind: str
    duplicate: bool  # this scan (or another of the same volunteer) had already been applied

    @property
    def message(self) -> str:
        time = timezone.localtime(
            self.attendance.checked_in_at if self.kind == Scan.Kind.CHECK_IN else self.attendance.checked_out_at
        )
        word = "签到" if self.kind == Scan.Kind.CHECK_IN else "签退"
        prefix = "已" if self.duplicate else ""
        return f"{prefix}{word}成功（{time:%H:%M}）：{self.attendance.activity.title}"


def _replayed(activity: Activity, kind: str) -> ScanResult | None:
    """The first scan of this scan id (found by _begin), if there was one: what it did, again."""
    if activity.replayed_scan is None:
        return None
    scan = Scan.objects.select_related("attendance__activity").get(pk=activity.replayed_scan)
    if scan.kind != kind or scan.activity_id != activity.pk:
        raise Conflict("该扫码编号已用于另一次扫码。", code="scan_id_reused")
    return ScanResult(scan.attendance, kind, duplicate=True)


@functools.cache
def _lookup_sql() -> dict[str, str]:
    """The subqueries _begin reads with the activity, as SQL (a scan's hot path: written once,
    never recompiled; each is a lookup on a unique index, so at most one row)."""
    q = connection.ops.quote_name
    activity = f"{q(Activity._meta.db_table)}.{q('id')}"
    scan, signup, att, vol = (q(m._meta.db_table) for m in (Scan, SignUp, Attendance, Volunteer))
    me = f"(SELECT v.id FROM {vol} v WHERE v.user_id = %s)"
    return {
        "volunteer": f"SELECT v.id FROM {vol} v WHERE v.user_id = %s",
        "scan": f"SELECT s.id FROM {scan} s WHERE s.volunteer_id = {me} AND s.scan_id = %s",
        "signup_id": f"SELECT u.id FROM {signup} u WHERE u.activity_id = {activity} AND u.volunteer_id = {me} "
        "AND u.status <> %s",
        "signup_status": f"SELECT u.status FROM {signup} u WHERE u.activity_id = {activity} "
        f"AND u.volunteer_id = {me} AND u.status <> %s",
        "attendance": f"SELECT t.id FROM {att} t WHERE t.activity_id = {activity} AND t.volunteer_id = {me}",
        "elsewhere": f"SELECT t.id FROM {att} t WHERE t.volunteer_id = {me} AND t.status = %s "
        f"AND t.activity_id <> {activity}",
    }


def _begin(by, activity_id: int, scan_id: str, kind: str) -> tuple[int, Activity]:
    """The volunteer's id and the activity, read with what the scan needs to know of it.

    A scan is a few round trips to the database, since hundreds arrive at once at the start
    of a big activity: one query reads the activity with the volunteer, their sign-up, the
    scan id's first use, and for a check-in their attendance here and any open check-in
    elsewhere (each an indexed subquery). No lock is taken: the unique indexes catch a race
    (see `_retrying`)."""
    if not getattr(by, "is_authenticated", False):
        _volunteer_of(None)  # raises not_volunteer
    if not isinstance(scan_id, str) or not SCAN_ID.match(scan_id):
        raise InvalidInput("扫码编号格式不正确。", code="scan_id_invalid")
    sql, u = _lookup_sql(), by.pk
    annotations = {
        "my_volunteer": RawSQL(sql["volunteer"], (u,)),
        "replayed_scan": RawSQL(sql["scan"], (u, scan_id)),
        "my_signup_id": RawSQL(sql["signup_id"], (u, SignUp.Status.CANCELLED)),
        "my_signup_status": RawSQL(sql["signup_status"], (u, SignUp.Status.CANCELLED)),
    }
    if kind == Scan.Kind.CHECK_IN:
        annotations["my_attendance"] = RawSQL(sql["attendance"], (u,))
        annotations["open_elsewhere"] = RawSQL(sql["elsewhere"], (u, Attendance.Status.CHECKED_IN))
    try:
        activity = Activity.objects.select_related("site").annotate(**annotations).get(pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise NotFound("活动不存在。", code="activity_not_found")
    if activity.my_volunteer is None:
        _volunteer_of(None)  # raises not_volunteer
    return activity.my_volunteer, activity


class _Raced(Exception):
    """Another scan of the same volunteer committed between this one's reads and its insert."""


def _retrying(scan):
    """Run a scan again when it lost a race on a unique index (its transaction is rolled back
    whole): the second run sees the winner and answers duplicate, replay or elsewhere."""

    @functools.wraps(scan)
    def run(*args, **kwargs):
        for _attempt in range(3):
            try:
                return scan(*args, **kwargs)
            except _Raced:
                continue
        raise Conflict("同一账号的扫码过于频繁，请稍后再试。", code="scan_busy")

    return run


def _insert(model, **fields):
    """Insert a row; a unique index refusing it means a concurrent scan won (no savepoint, two
    more round trips: the failed insert ends the whole transaction anyway, and the scan reruns)."""
    try:
        return model.objects.create(**fields)
    except IntegrityError:
        raise _Raced()


def _check_open(activity: Activity) -> None:
    if activity.status == Activity.Status.DRAFT:
        raise Conflict("活动尚未发布。", code="activity_not_published")
    if activity.status == Activity.Status.CANCELLED:
        raise Conflict("活动已取消。", code="activity_cancelled")
    if activity.status == Activity.Status.SETTLED:
        raise Conflict("活动时长已结算，不能再签到或签退，请联系组织者补录。", code="activity_settled")


@_retrying
def check_in(by, activity_id: int, *, token: str, scan_id: str, lat=None, lng=None, scanned_at=None, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        volunteer, activity = _begin(by, activity_id, scan_id, Scan.Kind.CHECK_IN)
        replay = _replayed(activity, Scan.Kind.CHECK_IN)
        if replay:
            return replay
        at = _scanned_at(scanned_at, now)
        _check_open(activity)
        _check_token(activity.pk, Scan.Kind.CHECK_IN, token, at)
        if at < activity.checkin_opens_at:
            raise Conflict(
                f"签到尚未开始，请于{timezone.localtime(activity.checkin_opens_at):%m月%d日 %H:%M}后签到。",
                code="too_early",
            )
        if at >= activity.ends_at:
            raise Conflict("活动已结束，不能再签到。", code="window_closed")
        confirmed = activity.my_signup_status == SignUp.Status.CONFIRMED
        if not confirmed and not activity.allow_walk_ins:
            if activity.my_signup_status == SignUp.Status.WAITING:
                raise Forbidden("您仍在候补名单中，未获得正式名额，不能签到。", code="on_waiting_list")
            raise Forbidden("您未报名本活动，不能签到。", code="not_signed_up")
        distance = _distance_to_site(activity, _position(lat, lng))
        if activity.my_attendance is not None:  # checked in here before (another phone, another scan)
            existing = Attendance.objects.select_related("activity").get(pk=activity.my_attendance)
            if existing.status != Attendance.Status.CHECKED_IN:
                raise Conflict("您已签退本活动，不能再次签到。", code="already_checked_out")
            _insert(Scan, volunteer_id=volunteer, scan_id=scan_id, kind=Scan.Kind.CHECK_IN, activity=activity,
                    attendance=existing, scanned_at=at, received_at=now, distance_m=distance)
            return ScanResult(existing, Scan.Kind.CHECK_IN, duplicate=True)
        if activity.open_elsewhere is not None:  # one at most: a partial unique index sees to it
            elsewhere = Attendance.objects.select_related("activity").get(pk=activity.open_elsewhere)
            if elsewhere.activity.checkout_closes_at >= now:
                raise Conflict(
                    f"您正在“{elsewhere.activity.title}”签到中，请先在那里签退。",
                    code="checked_in_elsewhere",
                    details={"activity": elsewhere.activity_id},
                )
            expire_open_checkins(now, volunteer_id=volunteer)  # stale: it waits for a decision now
        attendance = _insert(
            Attendance, activity=activity, volunteer_id=volunteer, signup_id=activity.my_signup_id if confirmed else None,
            is_walk_in=not confirmed, checked_in_at=at, check_in_distance_m=distance,
        )
        _insert(Scan, volunteer_id=volunteer, scan_id=scan_id, kind=Scan.Kind.CHECK_IN, activity=activity,
                attendance=attendance, scanned_at=at, received_at=now, distance_m=distance)
    return ScanResult(attendance, Scan.Kind.CHECK_IN, duplicate=False)


@_retrying
def check_out(by, activity_id: int, *, token: str, scan_id: str, lat=None, lng=None, scanned_at=None, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        volunteer, activity = _begin(by, activity_id, scan_id, Scan.Kind.CHECK_OUT)
        replay = _replayed(activity, Scan.Kind.CHECK_OUT)
        if replay:
            return replay
        at = _scanned_at(scanned_at, now)
        _check_open(activity)
        _check_token(activity.pk, Scan.Kind.CHECK_OUT, token, at)
        attendance = Attendance.objects.select_for_update().filter(activity=activity, volunteer_id=volunteer).first()
        if attendance is None:
            raise Conflict("您尚未在本活动签到，不能签退。", code="not_checked_in")
        if attendance.status == Attendance.Status.CHECKED_OUT:
            _insert(Scan, volunteer_id=volunteer, scan_id=scan_id, kind=Scan.Kind.CHECK_OUT, activity=activity,
                    attendance=attendance, scanned_at=at, received_at=now)
            return ScanResult(attendance, Scan.Kind.CHECK_OUT, duplicate=True)
        if attendance.status != Attendance.Status.CHECKED_IN:
            raise Conflict("签退已超过规定时间，请联系活动组织者处理。", code="checkout_closed")
        if at > activity.checkout_closes_at:
            raise Conflict("签退已超过规定时间，请联系活动组织者处理。", code="checkout_closed")
        if at < attendance.checked_in_at:
            raise InvalidInput("签退时间不能早于签到时间。", code="checkout_before_checkin")
        distance = _distance_to_site(activity, _position(lat, lng))
        attendance.status = Attendance.Status.CHECKED_OUT
        attendance.checked_out_at = at
        attendance.check_out_distance_m = distance
        attendance.save(update_fields=["status", "checked_out_at", "check_out_distance_m"])
        _insert(Scan, volunteer_id=volunteer, scan_id=scan_id, kind=Scan.Kind.CHECK_OUT, activity=activity,
                attendance=attendance, scanned_at=at, received_at=now, distance_m=distance)
    return ScanResult(attendance, Scan.Kind.CHECK_OUT, duplicate=False)


def checkin_code(by, activity: Activity, kind: str = Scan.Kind.CHECK_IN, now=None) -> dict:
    """What the organiser's screen shows: the token, the URL the QR code encodes, when it changes."""
    require_organiser(by, activity.node, activity.team)
    if kind not in Scan.Kind.values:
        raise InvalidInput("二维码类型须为 in（签到）或 out（签退）。", code="kind_invalid")
    _check_open(activity)
    now = now or timezone.now()
    token = token_for(activity.pk, kind, now)
    return {
        "activity": activity.pk,
        "kind": kind,
        "token": token,
        "url": scan_url(activity.pk, kind, token),
        "expires_at": token_expires_at(now),
        "refresh_seconds": slot_seconds(),
    }
