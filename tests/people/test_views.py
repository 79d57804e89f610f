"""The console pages of volunteers and teams: lists, search, masking, reveal, registration, permissions."""

import re

import pytest
from django.urls import reverse

from wenming.core.models import AuditEntry
from wenming.people import services
from wenming.people.models import Team, TeamMembership, Volunteer

from .conftest import bad_checksum, form_data, id_number, phone, years_ago

pytestmark = pytest.mark.django_db

VOLUNTEERS = "/people/volunteers/"
TEAMS = "/people/teams/"


def html(response) -> str:
    return response.content.decode()


def without_csrf(page: str) -> str:
    """A page without its per-response (masked) CSRF token."""
    return re.sub(r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', "", page)


# --- Pages render ---------------------------------------------------------------------------


def test_console_pages_need_login(tree):
    from django.test import Client

    v = tree.volunteer()
    for url in [VOLUNTEERS, f"{VOLUNTEERS}{v.pk}/", f"{VOLUNTEERS}new/", TEAMS, f"{TEAMS}new/"]:
        r = Client().get(url)
        assert r.status_code == 302 and "/login/" in r["Location"], url


def test_nav_names_resolve():
    assert reverse("people:volunteers") == VOLUNTEERS
    assert reverse("people:teams") == TEAMS


@pytest.mark.parametrize("who", ["district", "institute", "station", "viewer", "department", "team_leader", "volunteer"])
def test_pages_render_for_every_role(tree, who):
    v = tree.volunteer(name="张三")
    team = services.create_team(tree.users["district"], tree.s1, name="东风医疗队", leader=v)
    c = tree.client(who)
    assert c.get(VOLUNTEERS).status_code == 200
    assert c.get(TEAMS).status_code == 200
    reach = who not in ("other_institute", "volunteer")
    assert c.get(f"{VOLUNTEERS}{v.pk}/").status_code == (200 if reach else 404)
    assert c.get(f"{TEAMS}{team.pk}/").status_code == (200 if reach else 404)


def test_list_shows_columns_masked(tree):
    number = id_number()
    mobile = phone()
    v = tree.volunteer(name="张三", number=number, phone=mobile, skills=[tree.skills["医疗护理"]])
    page = html(tree.client("station").get(VOLUNTEERS))
    for text in [v.number, "张三", "男" if v.gender == "male" else "女", v.id_number_masked, v.phone_masked,
                 tree.s1.name, "医疗护理", str(v.age)]:
        assert text in page
    assert number not in page and mobile not in page


def test_list_is_scoped(tree):
    mine = tree.volunteer(tree.s1, "张三")
    other = tree.volunteer(tree.s3, "王五")
    page = html(tree.client("station").get(VOLUNTEERS))
    assert mine.number in page and other.number not in page
    page = html(tree.client("district").get(VOLUNTEERS))
    assert mine.number in page and other.number in page
    # A station filter out of reach finds nothing rather than leaking.
    page = html(tree.client("station").get(VOLUNTEERS, {"station": tree.s3.pk}))
    assert other.number not in page


def test_import_export_links_only_for_managers(tree):
    assert "/data/volunteers/export.xlsx" in html(tree.client("station").get(VOLUNTEERS))
    assert "/data/volunteers/import/" in html(tree.client("district").get(VOLUNTEERS))
    for who in ["viewer", "department", "team_leader"]:
        page = html(tree.client(who).get(VOLUNTEERS))
        assert "/data/volunteers/" not in page, who
        assert reverse("people:volunteer_new") not in page, who


# --- Search --------------------------------------------------------------------------------


@pytest.fixture
def people(tree):
    number, mobile = id_number(), phone()
    zhang = tree.volunteer(tree.s1, "张三", number=number, phone=mobile, skills=[tree.skills["文艺演出"]])
    li = tree.volunteer(tree.s2, "李四")
    wang = tree.volunteer(tree.s1, "王小明")
    return {"zhang": zhang, "li": li, "wang": wang, "id": number, "phone": mobile}


def found(tree, who="district", **params) -> set[str]:
    page = html(tree.client(who).get(VOLUNTEERS, params))
    return set(re.findall(r'class="masked">(\d{14})</a>', page))


@pytest.mark.parametrize("text", ["张三", "张", "zhs", "ZHS", "zhangsan", "zhang"])
def test_search_by_name_and_pinyin(tree, people, text):
    assert found(tree, q=text) == {people["zhang"].number}


def test_search_by_number_phone_and_id(tree, people):
    assert found(tree, q=people["li"].number) == {people["li"].number}
    assert found(tree, q=people["phone"]) == {people["zhang"].number}
    assert found(tree, q=people["id"]) == {people["zhang"].number}
    assert found(tree, q=people["id"].lower()) == {people["zhang"].number}
    # Only exact numbers: a part of a phone or ID number finds nobody.
    assert found(tree, q=people["phone"][:7]) == set()
    assert found(tree, q=people["id"][:10]) == set()


def test_filters_station_and_skill(tree, people):
    assert found(tree, station=tree.s2.pk) == {people["li"].number}
    assert found(tree, skill=tree.skills["文艺演出"].pk) == {people["zhang"].number}
    assert found(tree, station="abc", skill="x") == {p.number for p in (people["zhang"], people["li"], people["wang"])}


def test_htmx_search_returns_only_the_table(tree, people):
    r = tree.client("district").get(VOLUNTEERS, {"q": "zhs"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="volunteer-results")
    page = html(r)
    assert r.status_code == 200
    assert page.lstrip().startswith('<div id="volunteer-results">')
    assert "<html" not in page and people["zhang"].number in page and people["li"].number not in page


def test_search_escapes_hostile_input(tree, people):
    evil = '<script>alert(1)</script>'
    page = html(tree.client("district").get(VOLUNTEERS, {"q": evil}))
    assert evil not in page and "&lt;script&gt;" in page
    r = tree.client("district").get(VOLUNTEERS, {"q": "x" * 5000, "page": "999999"})
    assert r.status_code == 200


def test_pagination_50_per_page(tree):
    for i in range(51):
        tree.volunteer(tree.s1, "测试" + "甲乙丙丁戊己庚辛壬癸"[i % 10])
    c = tree.client("station")
    first, second = html(c.get(VOLUNTEERS)), html(c.get(VOLUNTEERS, {"page": 2}))
    assert len(re.findall(r'class="masked">\d{14}</a>', first)) == 50
    assert len(re.findall(r'class="masked">\d{14}</a>', second)) == 1
    assert "第 1 / 2 页" in first


# --- Detail, masking and reveal ---------------------------------------------------------------


def test_detail_masks_id_and_phone(tree):
    number, mobile = id_number(), phone()
    v = tree.volunteer(name="张三", number=number, phone=mobile)
    team = services.create_team(tree.users["district"], tree.s1, name="东风医疗队")
    services.add_team_member(tree.users["district"], team, v)
    page = html(tree.client("district").get(f"{VOLUNTEERS}{v.pk}/"))
    assert number not in page and mobile not in page
    assert number[:6] + "********" + number[-4:] in page
    # Nor the birth date: it is the 8 digits the mask hides (the two together are the number).
    birth = v.birth_date
    for shown in [f"{birth:%Y-%m-%d}", f"{birth:%Y%m%d}", f"{birth.year}年{birth.month}月{birth.day}日"]:
        assert shown not in page
    assert f"{v.age}岁" in page
    assert mobile[:3] + "****" + mobile[-4:] in page
    assert "东风医疗队" in page and "查看完整号码" in page
    assert reverse("people:volunteer_edit", args=[v.pk]) in page


@pytest.mark.parametrize("who", ["viewer", "department", "team_leader"])
def test_read_only_roles_see_no_reveal_or_edit(tree, who):
    v = tree.volunteer()
    page = html(tree.client(who).get(f"{VOLUNTEERS}{v.pk}/"))
    assert "查看完整号码" not in page
    assert reverse("people:volunteer_edit", args=[v.pk]) not in page


@pytest.mark.parametrize("field", ["id_number", "phone"])
def test_reveal_by_manager_returns_full_number_and_is_audited(tree, field):
    number, mobile = id_number(), phone()
    v = tree.volunteer(number=number, phone=mobile)
    r = tree.client("station").post(f"{VOLUNTEERS}{v.pk}/reveal/{field}/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert r.content.decode() == (number if field == "id_number" else mobile)
    assert "no-store" in r["Cache-Control"]
    entry = AuditEntry.objects.filter(action="volunteer.reveal").get()
    assert entry.actor == tree.users["station"] and entry.object_id == str(v.pk)


def test_reveal_guardian_phone(tree):
    guardian = phone()
    v = tree.volunteer(number=id_number(years_ago(16)), guardian_name="张大", guardian_phone=guardian,
                       guardian_consent=True)
    r = tree.client("district").post(f"{VOLUNTEERS}{v.pk}/reveal/guardian_phone/")
    assert r.content.decode() == guardian


@pytest.mark.parametrize("who", ["viewer", "department", "team_leader"])
def test_reveal_by_read_only_role_is_forbidden_and_not_audited(tree, who):
    number = id_number()
    v = tree.volunteer(number=number)
    r = tree.client(who).post(f"{VOLUNTEERS}{v.pk}/reveal/id_number/")
    assert r.status_code == 403
    assert number not in html(r)
    assert not AuditEntry.objects.filter(action="volunteer.reveal").exists()


def test_reveal_needs_post(tree):
    v = tree.volunteer()
    assert tree.client("district").get(f"{VOLUNTEERS}{v.pk}/reveal/id_number/").status_code == 405
    assert not AuditEntry.objects.filter(action="volunteer.reveal").exists()


def test_reveal_unknown_field_is_a_clear_error(tree):
    v = tree.volunteer()
    r = tree.client("district").post(f"{VOLUNTEERS}{v.pk}/reveal/id_number_enc/")
    assert r.status_code == 422 and "不支持查看该字段" in html(r)


def test_out_of_scope_is_404_like_nonexistent(tree):
    v = tree.volunteer(tree.s3, "王五")
    c = tree.client("station")
    out = c.get(f"{VOLUNTEERS}{v.pk}/")
    missing = c.get(f"{VOLUNTEERS}{v.pk + 1000}/")
    assert out.status_code == missing.status_code == 404
    same = [without_csrf(html(r)).replace(r.wsgi_request.path, "") for r in (out, missing)]
    assert same[0] == same[1]
    assert c.post(f"{VOLUNTEERS}{v.pk}/reveal/id_number/").status_code == 404
    assert c.get(f"{VOLUNTEERS}{v.pk}/edit/").status_code == 404
    assert not AuditEntry.objects.filter(action="volunteer.reveal").exists()


def test_volunteer_sees_own_record_only(tree):
    own = tree.volunteer(name="张三")
    own.user = tree.users["volunteer"]
    own.save(update_fields=["user"])
    other = tree.volunteer(name="李四")
    c = tree.client("volunteer")
    assert c.get(f"{VOLUNTEERS}{own.pk}/").status_code == 200
    assert c.get(f"{VOLUNTEERS}{other.pk}/").status_code == 404
    page = html(c.get("/"))
    assert f"{own.number[:6]} {own.number[6:]}" in page  # the home card shows their volunteer number


def test_home_cards_count_reach(tree):
    tree.volunteer(tree.s1)
    tree.volunteer(tree.s3)
    services.create_team(tree.users["district"], tree.s1, name="甲队")
    from wenming.core.home import home_cards

    cards = {c["label"]: c["value"] for c in home_cards(tree.users["station"])}
    assert cards["志愿者"] == 1 and cards["志愿服务队"] == 1
    cards = {c["label"]: c["value"] for c in home_cards(tree.users["district"])}
    assert cards["志愿者"] == 2


# --- Registration from the console --------------------------------------------------------------


def test_register_page_lists_only_stations_in_reach(tree):
    page = html(tree.client("institute").get(f"{VOLUNTEERS}new/"))
    assert tree.s1.name in page and tree.s2.name in page and tree.s3.name not in page
    assert "未满18周岁须填写" in page
    assert 'maxlength="50"' in page


def test_register_happy_path(tree):
    data = form_data(tree, name="钱七")
    r = tree.client("station").post(f"{VOLUNTEERS}new/", data, follow=True)
    v = Volunteer.objects.get(name="钱七")
    assert r.redirect_chain[-1][0] == f"{VOLUNTEERS}{v.pk}/"
    page = html(r)
    assert f"登记成功，志愿者编号：{v.number}" in page
    assert data["id_number"] not in page
    assert v.source == Volunteer.Source.CONSOLE and v.registered_by == tree.users["station"]
    assert list(v.skills.all()) == [tree.skills["医疗护理"]] and v.availability == ["weekend"]
    assert AuditEntry.objects.filter(action="volunteer.register", object_id=str(v.pk)).exists()


def test_register_duplicate_shows_generic_message(tree):
    number = id_number()
    tree.volunteer(tree.s3, "王五", number=number)
    r = tree.client("station").post(f"{VOLUNTEERS}new/", form_data(tree, id_number=number))
    page = html(r)
    assert r.status_code == 200 and services.DUPLICATE_MESSAGE in page
    assert "王五" not in page and tree.s3.name not in page
    assert Volunteer.objects.count() == 1


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"id_number": bad_checksum(id_number())}, "id_number", "校验位不正确"),
        ({"id_number": "12345"}, "id_number", "18位"),
        ({"id_number": id_number(years_ago(13))}, "id_number", "未满14周岁"),
        ({"phone": "12345"}, "phone", "11位"),
        ({"agreement_consent": None}, "agreement_consent", "须同意"),
        ({"name": "<b>x</b>"}, "name", "特殊符号"),
        ({"name": "张" * 500}, "name", "50"),
        ({"id_number": id_number(years_ago(16))}, "guardian_name", "监护人"),
        ({"station": "999999"}, "station", "选择"),
    ],
)
def test_register_errors_shown_on_the_field(tree, overrides, field, message):
    r = tree.client("district").post(f"{VOLUNTEERS}new/", form_data(tree, **overrides))
    assert r.status_code == 200
    form = r.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    assert message in html(r)
    assert Volunteer.objects.count() == 0


def test_register_minor_with_guardian(tree):
    data = form_data(tree, id_number=id_number(years_ago(16)), guardian_name="钱大", guardian_phone=phone(),
                     guardian_consent="on")
    r = tree.client("district").post(f"{VOLUNTEERS}new/", data)
    assert r.status_code == 302
    v = Volunteer.objects.get()
    assert v.guardian_name == "钱大" and v.guardian_consent_at is not None


def test_register_station_out_of_reach_refused(tree):
    r = tree.client("station").post(f"{VOLUNTEERS}new/", form_data(tree, station=str(tree.s3.pk)))
    assert r.status_code == 200 and "station" in r.context["form"].errors
    assert Volunteer.objects.count() == 0


@pytest.mark.parametrize("who", ["viewer", "department", "team_leader", "volunteer"])
def test_register_forbidden_for_read_only_roles(tree, who):
    c = tree.client(who)
    assert c.get(f"{VOLUNTEERS}new/").status_code == 403
    r = c.post(f"{VOLUNTEERS}new/", form_data(tree))
    assert r.status_code == 403 and "无权" in html(r)
    assert Volunteer.objects.count() == 0


# --- Edit -------------------------------------------------------------------------------------


def test_edit_volunteer(tree):
    v = tree.volunteer(tree.s1)
    new_phone = phone()
    data = {"phone": new_phone, "station": str(tree.s2.pk), "political_status": "cpc",
            "skills": [str(tree.skills["法律咨询"].pk)], "availability": ["evening", "holiday"]}
    r = tree.client("institute").post(f"{VOLUNTEERS}{v.pk}/edit/", data)
    assert r.status_code == 302
    v.refresh_from_db()
    assert v.station == tree.s2 and v.political_status == "cpc" and v.availability == ["evening", "holiday"]
    assert v.phone_masked == new_phone[:3] + "****" + new_phone[-4:]
    assert AuditEntry.objects.filter(action="volunteer.update", object_id=str(v.pk)).exists()


def test_edit_keeps_phone_when_blank(tree):
    v = tree.volunteer(tree.s1)
    before = v.phone_index
    data = {"phone": "", "station": str(tree.s1.pk), "political_status": "masses"}
    assert tree.client("station").post(f"{VOLUNTEERS}{v.pk}/edit/", data).status_code == 302
    v.refresh_from_db()
    assert v.phone_index == before


def test_edit_bad_phone_is_a_form_error(tree):
    v = tree.volunteer(tree.s1)
    r = tree.client("station").post(f"{VOLUNTEERS}{v.pk}/edit/",
                                     {"phone": "abc", "station": str(tree.s1.pk), "political_status": "masses"})
    assert r.status_code == 200 and "phone" in r.context["form"].errors


@pytest.mark.parametrize("who", ["viewer", "department", "team_leader"])
def test_edit_forbidden_for_read_only_roles(tree, who):
    v = tree.volunteer(tree.s1)
    c = tree.client(who)
    assert c.get(f"{VOLUNTEERS}{v.pk}/edit/").status_code == 403
    r = c.post(f"{VOLUNTEERS}{v.pk}/edit/", {"phone": phone(), "station": str(tree.s1.pk), "political_status": "cpc"})
    assert r.status_code == 403
    v.refresh_from_db()
    assert v.political_status == "masses"


def test_edit_by_neighbouring_station_admin_is_404(tree):
    v = tree.volunteer(tree.s1)
    assert tree.client("station2").get(f"{VOLUNTEERS}{v.pk}/edit/").status_code == 404


# --- Teams -----------------------------------------------------------------------------------


@pytest.fixture
def team(tree):
    leader = tree.volunteer(tree.s1, "赵六")
    return services.create_team(tree.users["district"], tree.s1, name="东风医疗队", leader=leader,
                                skills=[tree.skills["医疗护理"]])


def test_team_list_search_and_node_filter(tree, team):
    other = services.create_team(tree.users["district"], tree.s3, name="东站文艺队")
    c = tree.client("district")
    page = html(c.get(TEAMS))
    assert "东风医疗队" in page and "东站文艺队" in page and "医疗护理" in page
    page = html(c.get(TEAMS, {"q": "医疗"}))
    assert "东风医疗队" in page and "东站文艺队" not in page
    page = html(c.get(TEAMS, {"node": tree.s3.pk}))
    assert "东风医疗队" not in page and "东站文艺队" in page
    page = html(tree.client("station").get(TEAMS))
    assert "东风医疗队" in page and "东站文艺队" not in page
    assert tree.client("station").get(f"{TEAMS}{other.pk}/").status_code == 404
    r = c.get(TEAMS, {"q": "医疗"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="team-results")
    assert "<html" not in html(r) and "东风医疗队" in html(r)


def test_team_detail_shows_members_masked(tree, team):
    number, mobile = id_number(), phone()
    v = tree.volunteer(tree.s1, "孙八", number=number, phone=mobile)
    services.add_team_member(tree.users["district"], team, v)
    page = html(tree.client("viewer").get(f"{TEAMS}{team.pk}/"))
    assert "孙八" in page and "赵六" in page and v.phone_masked in page
    assert number not in page and mobile not in page
    assert "加入本队" not in page and "移出" not in page  # read-only


def test_team_create(tree):
    leader = tree.volunteer(tree.s1, "赵六")
    data = {"node": str(tree.s1.pk), "name": "东风法律服务队", "leader_number": leader.number,
            "skills": [str(tree.skills["法律咨询"].pk)], "capacity": "3", "description": "<b>免费</b>法律咨询"}
    r = tree.client("station").post(f"{TEAMS}new/", data)
    team = Team.objects.get(name="东风法律服务队")
    assert r.status_code == 302 and r["Location"] == f"{TEAMS}{team.pk}/"
    assert team.leader == leader and team.capacity == 3 and team.members.filter(pk=leader.pk).exists()
    page = html(tree.client("station").get(f"{TEAMS}{team.pk}/"))
    assert "&lt;b&gt;免费&lt;/b&gt;" in page


def test_team_create_errors(tree, team):
    c = tree.client("district")
    r = c.post(f"{TEAMS}new/", {"node": str(tree.s1.pk), "name": "东风医疗队", "capacity": "5"})
    assert r.status_code == 200 and "同名" in " ".join(r.context["form"].errors["name"])
    outsider = tree.volunteer(tree.s3, "王五")
    r = c.post(f"{TEAMS}new/", {"node": str(tree.s1.pk), "name": "新队", "capacity": "5", "leader_number": outsider.number})
    assert "leader_number" in r.context["form"].errors
    r = c.post(f"{TEAMS}new/", {"node": str(tree.s1.pk), "name": "x" * 300, "capacity": "-1"})
    assert r.status_code == 200 and {"name", "capacity"} <= set(r.context["form"].errors)
    assert Team.objects.count() == 1


def test_team_create_node_out_of_reach(tree):
    r = tree.client("station").post(f"{TEAMS}new/", {"node": str(tree.s3.pk), "name": "越权队", "capacity": "5"})
    assert r.status_code == 200 and "node" in r.context["form"].errors
    assert not Team.objects.filter(name="越权队").exists()


def test_team_edit(tree, team):
    r = tree.client("institute").post(f"{TEAMS}{team.pk}/edit/", {"name": "东风医疗护理队", "capacity": "8",
                                                                  "leader_number": team.leader.number})
    assert r.status_code == 302
    team.refresh_from_db()
    assert team.name == "东风医疗护理队" and team.capacity == 8


def test_team_members_add_and_remove(tree, team):
    v = tree.volunteer(tree.s1, "孙八")
    c = tree.client("station")
    r = c.post(f"{TEAMS}{team.pk}/members/", {"number": v.number}, follow=True)
    assert "已将" in html(r) and TeamMembership.objects.filter(team=team, volunteer=v).exists()
    r = c.post(f"{TEAMS}{team.pk}/members/", {"number": v.number}, follow=True)
    assert "已是本队队员" in html(r)
    r = c.post(f"{TEAMS}{team.pk}/members/", {"number": "43050299999999"}, follow=True)
    assert "找不到该编号的志愿者" in html(r)
    r = c.post(f"{TEAMS}{team.pk}/members/{team.leader_id}/remove/", follow=True)
    assert "不能移除队长" in html(r)
    r = c.post(f"{TEAMS}{team.pk}/members/{v.pk}/remove/", follow=True)
    assert "移出本队" in html(r) and not TeamMembership.objects.filter(team=team, volunteer=v).exists()
    assert AuditEntry.objects.filter(action="team.member_remove").exists()


def test_team_member_add_out_of_reach_volunteer(tree, team):
    outsider = tree.volunteer(tree.s3, "王五")
    r = tree.client("station").post(f"{TEAMS}{team.pk}/members/", {"number": outsider.number}, follow=True)
    assert "找不到该编号的志愿者" in html(r)
    assert not TeamMembership.objects.filter(volunteer=outsider).exists()


@pytest.mark.parametrize("who", ["viewer", "department", "team_leader"])
def test_team_writes_forbidden_for_read_only_roles(tree, team, who):
    v = tree.volunteer(tree.s1, "孙八")
    c = tree.client(who)
    assert c.get(f"{TEAMS}new/").status_code == 403
    assert c.get(f"{TEAMS}{team.pk}/edit/").status_code == 403
    assert c.post(f"{TEAMS}{team.pk}/edit/", {"name": "改名", "capacity": "1"}).status_code == 403
    assert c.post(f"{TEAMS}{team.pk}/members/", {"number": v.number}).status_code == 403
    assert c.post(f"{TEAMS}{team.pk}/members/{team.leader_id}/remove/").status_code == 403
    team.refresh_from_db()
    assert team.name == "东风医疗队" and team.members.count() == 1


def test_team_pages_out_of_reach_are_404(tree, team):
    c = tree.client("other_institute")
    for url in [f"{TEAMS}{team.pk}/", f"{TEAMS}{team.pk}/edit/"]:
        assert c.get(url).status_code == 404
    assert c.post(f"{TEAMS}{team.pk}/members/", {"number": "x"}).status_code == 404
