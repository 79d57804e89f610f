"""Personal data: encrypted at rest, blind-indexed, shown masked, every reveal audited."""

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection
from django.test import override_settings

from tests import factories as f
from wenming.core import pii
from wenming.core.models import AuditEntry
from wenming.people.models import Volunteer

# --- Masking ----------------------------------------------------------------------------------


def test_id_number_keeps_first_six_and_last_four_at_most():
    number = "43050219900101123X"
    masked = pii.mask_id_number(number)
    assert masked == "430502********123X"
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8  # the birth date never shows


@pytest.mark.parametrize("short", ["", "1", "123456789"])
def test_short_id_values_are_fully_masked(short):
    assert pii.mask_id_number(short) == "*" * len(short)


def test_phone_mask():
    assert pii.mask_phone("13812341234") == "138****1234"


@pytest.mark.parametrize("short", ["", "123", "123456"])
def test_short_phone_values_are_fully_masked(short):
    assert pii.mask_phone(short) == "*" * len(short)


def test_name_mask():
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_name("欧阳娜娜") == "欧***"
    assert pii.mask_name("张") == "张*"
    assert pii.mask_name("") == ""


# --- Encryption and blind index ---------------------------------------------------------------


def test_encrypt_round_trip_with_a_fresh_nonce_each_time():
    a, b = pii.encrypt("43050219900101123X"), pii.encrypt("43050219900101123X")
    assert a != b
    assert "43050219900101123X" not in a
    assert pii.decrypt(a) == pii.decrypt(b) == "43050219900101123X"


def test_tampered_ciphertext_is_refused():
    import base64

    raw = bytearray(base64.b64decode(pii.encrypt("13812341234")))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        pii.decrypt(base64.b64encode(bytes(raw)).decode())


def test_blind_index_is_stable_and_separate_per_kind():
    assert pii.blind_index("13812341234", "phone") == pii.blind_index("13812341234", "phone")
    assert pii.blind_index("13812341234", "phone") != pii.blind_index("13812341234", "id")
    assert "13812341234" not in pii.blind_index("13812341234", "phone")


def test_keys_follow_the_setting():
    """pii caches derived keys by the key's value, so a changed setting takes effect at once."""
    index = pii.blind_index("13812341234", "phone")
    sealed = pii.encrypt("x")
    with override_settings(WENMING_DATA_KEY="another-key-for-this-test-only-0000"):
        assert pii.blind_index("13812341234", "phone") != index
        with pytest.raises(InvalidTag):
            pii.decrypt(sealed)
    assert pii.blind_index("13812341234", "phone") == index


def test_tests_run_with_the_fixed_test_key(settings):
    from tests.conftest import TEST_SETTINGS

    assert settings.WENMING_DATA_KEY == TEST_SETTINGS["WENMING_DATA_KEY"]


@pytest.mark.django_db
def test_the_database_holds_no_number_in_the_clear(station):
    v = f.make_volunteer(station, "张三", guardian_name="张父", guardian_phone=f.make_phone(), guardian_consent=True,
                         birth=f.birth_for_age(15))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_volunteer WHERE id = %s", [v.pk])
        row = " ".join(str(c) for c in cursor.fetchone())
    assert v.plain_id_number not in row
    assert v.plain_phone not in row
    assert v.plain_id_number[6:14] not in row  # not even the birth date part of it
    stored = Volunteer.objects.get(pk=v.pk)
    assert stored.id_number_masked == pii.mask_id_number(v.plain_id_number)
    assert stored.phone_masked == pii.mask_phone(v.plain_phone)
    assert pii.decrypt(stored.id_number_enc) == v.plain_id_number
    assert stored.guardian_phone_masked.count("*") == 4
    for entry in AuditEntry.objects.all():  # the audit trail keeps masked copies only
        text = f"{entry.before} {entry.after} {entry.note} {entry.object_repr}"
        assert v.plain_id_number not in text and v.plain_phone not in text


# --- Reveal -------------------------------------------------------------------------------------


@pytest.fixture
def revealing(world):
    return world, world.volunteers["S11"]


def reveal(api, volunteer, field="id_number", **kw):
    return api.post(f"/volunteers/{volunteer.pk}/reveal/{field}", **kw)


def test_api_shows_masked_numbers(revealing):
    world, v = revealing
    body = world.api("district_admin").get(f"/volunteers/{v.pk}").json()
    assert body["id_number"] == v.plain_id_number[:6] + "*" * 8 + v.plain_id_number[-4:]
    assert body["phone"] == v.plain_phone[:3] + "****" + v.plain_phone[-4:]


def test_every_reveal_is_audited(revealing):
    world, v = revealing
    api = world.api("station_admin")
    for field, plain, label in [("id_number", v.plain_id_number, "身份证号码"), ("phone", v.plain_phone, "手机号码"),
                                ("id_number", v.plain_id_number, "身份证号码")]:
        r = reveal(api, v, field, headers={"x-forwarded-for": "10.0.0.9"})
        assert r.status_code == 200
        assert r.json()["value"] == plain
        entry = AuditEntry.objects.filter(action="volunteer.reveal").first()
        assert entry.actor == world.station_admin
        assert entry.object_type == "people.volunteer" and entry.object_id == str(v.pk)
        assert label in entry.note
        assert entry.ip == "127.0.0.1"  # the client's address, not a header it could forge
        assert plain not in f"{entry.note} {entry.before} {entry.after} {entry.object_repr}"
    assert AuditEntry.objects.filter(action="volunteer.reveal").count() == 3


@pytest.mark.parametrize("role", ["department", "viewer", "team_leader", "volunteer"])
def test_a_role_without_the_right_gets_403_and_nothing_is_logged_as_revealed(revealing, role):
    world, v = revealing
    r = reveal(world.api(role), v)
    assert r.status_code == 403
    assert r.json()["code"] == "reveal_forbidden"
    assert v.plain_id_number not in r.content.decode()
    assert not AuditEntry.objects.filter(action="volunteer.reveal").exists()


def test_revealing_an_unknown_field_or_an_empty_one(revealing):
    world, v = revealing
    api = world.api("district_admin")
    assert reveal(api, v, "password").json()["code"] == "field_invalid"
    r = reveal(api, v, "guardian_phone")  # an adult has no guardian
    assert r.status_code == 422 and r.json()["code"] == "field_empty"
    assert not AuditEntry.objects.filter(action="volunteer.reveal").exists()


def test_reveal_needs_a_post(revealing):
    world, v = revealing
    r = world.api("district_admin").get(f"/volunteers/{v.pk}/reveal/id_number")
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    assert not AuditEntry.objects.filter(action="volunteer.reveal").exists()


# --- Masking must not be undone by another field ----------------------------------------------------


def hidden_digits(volunteer) -> list[str]:
    """The 8 digits a masked ID hides are the birth date: they must not show in any form."""
    d = volunteer.plain_id_number[6:14]
    return [d, f"{d[:4]}-{d[4:6]}-{d[6:]}", f"{d[:4]}年{int(d[4:6])}月{int(d[6:])}日", f"{d[:4]}/{d[4:6]}/{d[6:]}"]


def test_the_api_never_pairs_the_masked_id_with_the_birth_date(revealing):
    world, v = revealing
    api = world.api("district_admin")
    for response in [api.get(f"/volunteers/{v.pk}"), api.get("/volunteers"), api.get("/volunteers", {"q": "zhs"})]:
        text = response.content.decode()
        assert v.id_number_masked in text
        for form in hidden_digits(v):
            assert form not in text, f"{form} with {v.id_number_masked} is the full ID number"
    assert api.get(f"/volunteers/{v.pk}").json()["age"] == v.age


def test_the_console_never_pairs_the_masked_id_with_the_birth_date(revealing):
    from django.test import Client

    world, v = revealing
    client = Client()
    client.force_login(world.viewer)  # a role that may not reveal
    page = client.get(f"/people/volunteers/{v.pk}/").content.decode()
    assert v.id_number_masked in page
    for form in hidden_digits(v):
        assert form not in page


def test_the_masked_excel_export_never_pairs_the_masked_id_with_the_birth_date(revealing):
    from wenming.people.datasets import export_volunteers

    world, v = revealing
    rows = [row for row in export_volunteers(world.district_admin) if v.id_number_masked in row]
    assert rows
    text = " ".join(str(cell) for cell in rows[0])
    birth = v.plain_id_number[6:14]
    assert birth not in text.replace("-", "").replace("/", "")
