"""The public phone registration page /people/join/: no account, generic duplicates, minors,
consent, hostile input, flood protection."""

import pytest
from django.test import Client, override_settings

from wenming.core.models import AuditEntry
from wenming.people import services
from wenming.people.models import Volunteer

from .conftest import bad_checksum, id_number, join_data, phone, years_ago

pytestmark = pytest.mark.django_db

JOIN = "/people/join/"


def html(response) -> str:
    return response.content.decode()


def post(data, client=None, ip="10.1.2.3"):
    return (client or Client()).post(JOIN, data, REMOTE_ADDR=ip)


def test_page_renders_without_login(tree):
    r = Client().get(JOIN)
    page = html(r)
    assert r.status_code == 200
    assert 'class="mobile"' in page and "sidenav" not in page
    assert tree.i1.name in page and tree.i2.name in page
    assert "csrfmiddlewaretoken" in page
    assert "《志愿服务协议》" in page and "《个人信息保护政策》" in page and "<details>" in page
    assert "未满18周岁须填写" in page
    assert 'name="viewport"' in page


def test_station_link_preselects_institute_and_station(tree):
    page = html(Client().get(JOIN, {"station": tree.s2.pk}))
    assert f'<option value="{tree.i1.pk}" selected>' in page
    assert f'<option value="{tree.s2.pk}" selected>' in page
    assert tree.s3.name not in page


def test_stations_of_an_institute_via_htmx(tree):
    r = Client().get("/people/join/stations/", {"institute": tree.i2.pk}, HTTP_HX_REQUEST="true")
    page = html(r)
    assert r.status_code == 200 and 'id="field-station"' in page
    assert tree.s3.name in page and tree.s1.name not in page
    page = html(Client().get("/people/join/stations/", {"institute": "junk"}))
    assert tree.s1.name not in page and tree.s3.name not in page


def test_happy_path_shows_only_number_and_masked_data(tree):
    data = join_data(tree, name="钱小七")
    c = Client()
    r = post(data, c)
    assert r.status_code == 302 and r["Location"] == "/people/join/done/"
    v = Volunteer.objects.get()
    assert v.source == Volunteer.Source.SELF and v.registered_by is None and v.station == tree.s1
    assert list(v.skills.all()) == [tree.skills["医疗护理"]]
    done = c.get(r["Location"])
    page = html(done)
    assert v.number in page
    assert "钱**" in page and v.phone_masked in page
    assert "钱小七" not in page and data["phone"] not in page and data["id_number"] not in page
    assert v.id_number_masked not in page and tree.s1.name not in page
    assert "no-store" in done["Cache-Control"]
    entry = AuditEntry.objects.get(action="volunteer.register")
    assert entry.actor is None and entry.ip == "10.1.2.3"


def test_id_number_typed_with_spaces(tree):
    number = id_number()
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert post(join_data(tree, id_number=spaced)).status_code == 302
    assert Volunteer.objects.get().id_number_masked == number[:6] + "********" + number[-4:]


def test_done_page_without_registration_goes_back(tree):
    r = Client().get("/people/join/done/")
    assert r.status_code == 302 and r["Location"] == JOIN


def test_duplicate_refused_with_generic_message(tree):
    number = id_number()
    tree.volunteer(tree.s3, "王五", number=number)
    r = post(join_data(tree, id_number=number, name="冒名"))
    page = html(r)
    assert r.status_code == 200
    assert services.DUPLICATE_MESSAGE in page
    assert "王五" not in page and tree.s3.name not in page
    assert Volunteer.objects.count() == 1


def test_under_14_refused(tree):
    r = post(join_data(tree, id_number=id_number(years_ago(14, days=1))))
    assert r.status_code == 200 and "未满14周岁" in html(r)
    assert Volunteer.objects.count() == 0


def test_14_to_18_needs_guardian(tree):
    minor = id_number(years_ago(15))
    r = post(join_data(tree, id_number=minor))
    assert r.status_code == 200 and "监护人" in " ".join(r.context["form"].errors["guardian_name"])
    assert Volunteer.objects.count() == 0
    r = post(join_data(tree, id_number=minor, guardian_name="钱大", guardian_phone=phone()))  # no consent
    assert r.status_code == 200 and Volunteer.objects.count() == 0
    r = post(join_data(tree, id_number=minor, guardian_name="钱大", guardian_phone=phone(), guardian_consent="on"))
    assert r.status_code == 302
    assert Volunteer.objects.get().guardian_name == "钱大"


def test_just_14_may_register_with_guardian(tree):
    data = join_data(tree, id_number=id_number(years_ago(14)), guardian_name="钱大", guardian_phone=phone(),
                     guardian_consent="on")
    assert post(data).status_code == 302


@pytest.mark.parametrize("missing", ["agreement_consent", "privacy_consent"])
def test_missing_consent_refused(tree, missing):
    r = post(join_data(tree, **{missing: None}))
    assert r.status_code == 200 and "须同意" in html(r)
    assert Volunteer.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"id_number": bad_checksum(id_number())}, "id_number"),
        ({"id_number": "43050219900230001X"}, "id_number"),  # 30 February
        ({"phone": "0731-1234567"}, "phone"),
        ({"institute": None}, "institute"),
        ({"station": None}, "station"),
        ({"political_status": "emperor"}, "political_status"),
        ({"availability": ["always"]}, "availability"),
        ({"skills": ["999999"]}, "skills"),
    ],
)
def test_bad_input_is_a_form_error(tree, overrides, field):
    r = post(join_data(tree, **overrides))
    assert r.status_code == 200
    assert field in r.context["form"].errors
    assert Volunteer.objects.count() == 0


def test_station_must_belong_to_the_chosen_institute(tree):
    r = post(join_data(tree, institute=str(tree.i2.pk), station=str(tree.s1.pk)))
    assert r.status_code == 200 and "station" in r.context["form"].errors
    # Without scripts, choosing the institute and submitting lists its stations.
    assert tree.s3.name in html(r) and Volunteer.objects.count() == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "<script>alert(1)</script>"),
        ("name", "张" * 10_000),
        ("id_number", "1" * 10_000),
        ("phone", "<img src=x onerror=alert(1)>"),
        ("guardian_name", "x" * 10_000),
        ("name", "'; DROP TABLE people_volunteer; --"),
        ("name", "\x00\x01"),
    ],
)
def test_hostile_and_huge_input_gives_a_form_error(tree, field, value):
    r = post(join_data(tree, **{field: value}))
    page = html(r)
    assert r.status_code == 200
    assert r.context["form"].errors
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert Volunteer.objects.count() == 0


def test_csrf_is_enforced(tree):
    c = Client(enforce_csrf_checks=True)
    r = c.post(JOIN, join_data(tree))
    assert r.status_code == 403 and Volunteer.objects.count() == 0


def test_rate_limit_per_address(tree):
    for _ in range(10):
        assert post(join_data(tree), ip="10.9.9.9").status_code == 302
    r = post(join_data(tree), ip="10.9.9.9")
    assert r.status_code == 429
    assert "提交过于频繁" in html(r) and "每小时最多提交10次" in html(r)
    assert Volunteer.objects.count() == 10
    # Another address is not affected.
    assert post(join_data(tree), ip="10.9.9.10").status_code == 302


def test_rate_limit_counts_refused_attempts_too(tree):
    """Guessing who is registered (duplicates) costs the allowance as well."""
    number = id_number()
    tree.volunteer(tree.s1, number=number)
    with override_settings(WENMING_SELF_REGISTRATION_PER_HOUR=3):
        for _ in range(3):
            assert services.DUPLICATE_MESSAGE in html(post(join_data(tree, id_number=number), ip="10.8.8.8"))
        assert post(join_data(tree), ip="10.8.8.8").status_code == 429


def test_join_link_on_login_page():
    assert JOIN in html(Client().get("/login/"))
