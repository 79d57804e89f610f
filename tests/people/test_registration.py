"""Registering a volunteer: the rules of SPEC (age, guardian, consent, one registration per ID
number), the volunteer number, and what a refused duplicate may and may not say."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories as f
from wenming.core import pii
from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import AuditEntry
from wenming.people import services
from wenming.people.models import Volunteer

pytestmark = pytest.mark.django_db


def data(station, **over) -> services.VolunteerData:
    values = {"name": "钱七", "id_number": f.make_id_number(), "phone": f.make_phone(), "station": station,
              "agreement_consent": True, "privacy_consent": True}
    values.update(over)
    return services.VolunteerData(**values)


def refused(exc_type, fn, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def register(station, by=None, **over):
    source = "self" if by is None else "console"
    return services.register_volunteer(by, data(station, **over), source=source)


# --- A good registration ------------------------------------------------------------------------


def test_adult_registers_with_number_birth_date_and_gender_from_the_id(station):
    number = f.make_id_number(f.birth_for_age(30, days=-10), gender="female")
    v = register(station, id_number=number, political_status="cyl", availability=["weekend", "weekend", "evening"])
    assert re.fullmatch(r"430502\d{8}", v.number)
    assert v.gender == "female"
    assert v.birth_date.isoformat() == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    assert v.age == 30
    assert v.availability == ["weekend", "evening"]
    assert v.id_number_masked == pii.mask_id_number(number)
    assert v.source == "self" and v.registered_by is None
    assert v.agreement_consent_at and v.privacy_consent_at
    assert v.name_pinyin == "qianqi" and v.name_initials == "qq"


def test_volunteer_numbers_are_sequential_and_unique(station):
    numbers = [register(station).number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n[6:]) for n in numbers] == sorted(int(n[6:]) for n in numbers)
    assert int(numbers[2][6:]) - int(numbers[0][6:]) == 2


def test_registration_is_audited_with_masked_numbers(station, admin_user):
    v = register(station, by=admin_user)
    entry = AuditEntry.objects.get(action="volunteer.register", object_id=str(v.pk))
    assert entry.actor == admin_user
    assert entry.after["id_number"] == v.id_number_masked
    assert entry.after["phone"] == v.phone_masked
    assert entry.after["number"] == v.number


def test_full_width_and_lower_case_forms_of_the_id_are_stored_normalised(station):
    number = f.make_id_number()
    full = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    v = register(station, id_number=full, phone="１３８ ００００ ９９９９")
    assert pii.decrypt(v.id_number_enc) == number
    assert pii.decrypt(v.phone_enc) == "13800009999"
    assert v.id_number_index == pii.blind_index(number, "id")


# --- What is refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(("over", "code"), [
    ({"name": ""}, "name_missing"), ({"name": "   "}, "name_missing"), ({"name": "张" * 51}, "name_invalid"),
    ({"name": "<script>"}, "name_invalid"), ({"name": "12345"}, "name_invalid"), ({"name": "张\n三"}, "name_invalid"),
    ({"id_number": ""}, "id_number_missing"), ({"id_number": "123"}, "id_number_format"),
    ({"id_number": f.wrong_checksum(f.make_id_number())}, "id_number_checksum"),
    ({"phone": "12345678901"}, "phone_format"), ({"phone": ""}, "phone_format"),
    ({"agreement_consent": False}, "consent_missing"), ({"privacy_consent": False}, "consent_missing"),
    ({"political_status": "emperor"}, "political_status_invalid"), ({"availability": ["always"]}, "availability_invalid"),
])
def test_invalid_registrations_are_refused_in_chinese(station, over, code):
    with pytest.raises(InvalidInput) as exc:
        register(station, **over)
    assert exc.value.code == code
    assert any("\u4e00" <= c <= "\u9fff" for c in exc.value.message)
    assert not Volunteer.objects.exists()


def test_future_birth_date_is_refused(station):
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert refused(InvalidInput, register, station, id_number=f.make_id_number(tomorrow)) == "id_number_future_birth"


def test_only_a_station_takes_volunteers(station):
    institute = station.get_parent()
    assert refused(InvalidInput, register, institute) == "station_invalid"
    assert refused(InvalidInput, services.register_volunteer, None, data(None), source="self") == "station_invalid"


# --- Age: under 14 never, 14 to 18 with a guardian -----------------------------------------------

GUARDIAN = {"guardian_name": "钱父", "guardian_phone": "13900001111", "guardian_consent": True}


def test_a_child_one_day_short_of_fourteen_is_refused_even_with_a_guardian(station):
    number = f.make_id_number(f.birth_for_age(14, days=1))
    assert refused(InvalidInput, register, station, id_number=number, **GUARDIAN) == "too_young"


@pytest.mark.parametrize("years", [0, 6, 13])
def test_children_under_fourteen_are_refused(station, years):
    number = f.make_id_number(f.birth_for_age(years, days=-30))
    assert refused(InvalidInput, register, station, id_number=number, **GUARDIAN) == "too_young"


def test_fourteen_today_may_register_with_a_guardian(station):
    v = register(station, id_number=f.make_id_number(f.birth_for_age(14)), **GUARDIAN)
    assert v.age == 14
    assert v.guardian_name == "钱父"
    assert v.guardian_phone_masked == "139****1111"
    assert pii.decrypt(v.guardian_phone_enc) == "13900001111"
    assert v.guardian_consent_at is not None


@pytest.mark.parametrize("missing", ["guardian_name", "guardian_phone", "guardian_consent"])
def test_a_minor_needs_every_part_of_the_guardians_consent(station, missing):
    over = {**GUARDIAN, missing: False if missing == "guardian_consent" else ""}
    number = f.make_id_number(f.birth_for_age(16))
    assert refused(InvalidInput, register, station, id_number=number, **over) == "guardian_required"


def test_a_minors_guardian_phone_must_be_valid(station):
    number = f.make_id_number(f.birth_for_age(16))
    assert refused(InvalidInput, register, station, id_number=number,
                   **{**GUARDIAN, "guardian_phone": "110"}) == "phone_format"


def test_seventeen_and_a_day_short_of_eighteen_still_needs_a_guardian(station):
    number = f.make_id_number(f.birth_for_age(18, days=1))
    assert refused(InvalidInput, register, station, id_number=number) == "guardian_required"


def test_eighteen_today_needs_no_guardian(station):
    v = register(station, id_number=f.make_id_number(f.birth_for_age(18)))
    assert v.guardian_name == "" and v.guardian_consent_at is None


def test_the_api_applies_the_age_rules(world):
    api = world.api("station_admin")
    body = {"name": "小明", "phone": f.make_phone(), "station_id": world.S11.pk,
            "agreement_consent": True, "privacy_consent": True}
    r = api.post("/volunteers", {**body, "id_number": f.make_id_number(f.birth_for_age(13))})
    assert r.status_code == 422 and r.json()["code"] == "too_young"
    r = api.post("/volunteers", {**body, "id_number": f.make_id_number(f.birth_for_age(15))})
    assert r.status_code == 422 and r.json()["code"] == "guardian_required"
    r = api.post("/volunteers", {**body, "id_number": f.make_id_number(f.birth_for_age(15)), **GUARDIAN})
    assert r.status_code == 201, r.content.decode()
    assert r.json()["guardian_name"] == "钱父"


# --- One registration per ID number ---------------------------------------------------------------


def test_a_second_registration_of_one_id_is_refused(station):
    number = f.make_id_number()
    register(station, id_number=number)
    with pytest.raises(Conflict) as exc:
        register(station, id_number=number, name="李四", phone=f.make_phone())
    assert exc.value.code == "already_registered"
    assert exc.value.status == 409
    assert Volunteer.objects.count() == 1


@pytest.mark.parametrize("variant", [str.lower, lambda n: f" {n[:6]} {n[6:14]} {n[14:]} ",
                                     lambda n: n.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))],
                         ids=["lower-case-x", "spaces", "full-width"])
def test_another_spelling_of_the_same_id_is_the_same_person(station, variant):
    number = next(n for n in (f.make_id_number() for _ in range(200)) if n.endswith("X"))
    register(station, id_number=number)
    assert refused(Conflict, register, station, id_number=variant(number)) == "already_registered"


def test_the_duplicate_message_reveals_neither_who_nor_where(world):
    existing = world.volunteers["S21"]
    api = world.api("station_admin")  # S11's admin knows nothing of S21
    r = api.post("/volunteers", {"name": "冒名", "id_number": existing.plain_id_number, "phone": f.make_phone(),
                                 "station_id": world.S11.pk, "agreement_consent": True, "privacy_consent": True})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "already_registered"
    assert body["message"] == services.DUPLICATE_MESSAGE
    assert body["details"] is None
    text = json.dumps(body, ensure_ascii=False)
    for secret in [existing.name, existing.number, existing.station.name, existing.station.division_code,
                   existing.id_number_masked, existing.phone_masked, existing.plain_phone, "王", "东站"]:
        assert secret not in text, secret
    # The same answer whoever asks and wherever the first registration is.
    r2 = world.api("district_admin").post("/volunteers", {
        "name": "又一个", "id_number": existing.plain_id_number, "phone": f.make_phone(), "station_id": world.S21.pk,
        "agreement_consent": True, "privacy_consent": True})
    assert r2.json() == body


def test_a_refused_duplicate_leaves_no_trace_of_a_half_registration(station):
    number = f.make_id_number()
    register(station, id_number=number)
    entries = AuditEntry.objects.count()
    refused(Conflict, register, station, id_number=number)
    assert Volunteer.objects.count() == 1
    assert AuditEntry.objects.count() == entries


# --- Who may register whom -------------------------------------------------------------------------


def test_console_registration_needs_a_manager_in_reach(world):
    for role in ["viewer", "department", "team_leader", "volunteer"]:
        with pytest.raises(Forbidden):
            register(world.S11, by=world.users[role])
    with pytest.raises(Forbidden):
        register(world.S21, by=world.station_admin)
    with pytest.raises(Forbidden):
        register(world.S21, by=world.institute_admin)
    assert register(world.S12, by=world.institute_admin).registered_by == world.institute_admin


def test_self_registration_needs_no_account(station):
    assert register(station).registered_by is None


# --- After registration --------------------------------------------------------------------------


def test_changing_the_phone_updates_index_mask_and_audit(world):
    v = world.volunteers["S11"]
    new = f.make_phone()
    services.update_volunteer(world.station_admin, v, phone=new)
    v.refresh_from_db()
    assert pii.decrypt(v.phone_enc) == new
    assert v.phone_index == pii.blind_index(new, "phone")
    assert v.phone_masked == pii.mask_phone(new)
    entry = AuditEntry.objects.get(action="volunteer.update")
    assert entry.before == {"phone": pii.mask_phone(v.plain_phone)}
    assert entry.after == {"phone": pii.mask_phone(new)}


def test_a_volunteer_edits_their_own_record_but_nobody_elses(world):
    mine = world.own_volunteer
    services.update_volunteer(world.users["volunteer"], mine, availability=["weekend"])
    mine.refresh_from_db()
    assert mine.availability == ["weekend"]
    with pytest.raises(Forbidden):
        services.update_volunteer(world.users["volunteer"], world.volunteers["S12"], availability=["weekend"])


def test_identity_fields_cannot_be_changed_through_the_api(world):
    v = world.volunteers["S11"]
    r = world.api("district_admin").patch(f"/volunteers/{v.pk}", {"name": "改名", "id_number": f.make_id_number(),
                                                                  "birth_date": "2000-01-01", "number": "1"})
    assert r.status_code == 200  # unknown fields are ignored …
    v.refresh_from_db()
    assert (v.name, pii.decrypt(v.id_number_enc)) == ("张三", v.plain_id_number)  # … and change nothing


# --- At the same time (PostgreSQL, real threads) ---------------------------------------------------


def run_at_once(n: int, target) -> list:
    """Run `target(i)` in n threads released together; returns each result or exception."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_registrations_let_exactly_one_through():
    centre = f.make_centre()
    station = f.make_child(f.make_child(centre, "所", "430502001000"), "站", "430502001001")
    number = f.make_id_number()

    results = run_at_once(8, lambda i: services.register_volunteer(
        None, data(station, id_number=number, name=f"并发{'一二三四五六七八'[i]}", phone=f.make_phone()), source="self"))

    ok = [r for r in results if isinstance(r, Volunteer)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 1, results
    assert len(conflicts) == 7, results
    assert all(c.code == "already_registered" for c in conflicts)
    assert Volunteer.objects.filter(id_number_index=pii.blind_index(number, "id")).count() == 1


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_numbers():
    centre = f.make_centre()
    station = f.make_child(f.make_child(centre, "所", "430502001000"), "站", "430502001001")
    numbers = [f.make_id_number() for _ in range(8)]

    results = run_at_once(8, lambda i: services.register_volunteer(
        None, data(station, id_number=numbers[i], phone=f.make_phone()), source="self").number)

    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 8
