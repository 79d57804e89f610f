"""Themes (district admins) and project brands (managers, in their reach): list, create, edit."""

from tests.ledger.helpers import make_user
from wenming.activities.models import Brand, Theme
from wenming.core.models import AuditEntry, User

from .console_helpers import client_for, station_admin


def test_district_admin_manages_themes(tree):
    c = client_for(tree.admin)
    assert c.get("/activities/themes/").status_code == 200
    r = c.post("/activities/themes/new/", {"name": " 垃圾分类 ", "is_festival": "", "sort_order": "5"})
    assert r.status_code == 302
    theme = Theme.objects.get(name="垃圾分类")
    assert theme.sort_order == 5 and AuditEntry.objects.filter(action="activity.theme.save").exists()
    r = c.post(f"/activities/themes/{theme.pk}/edit/", {"name": "我们的节日·元宵", "is_festival": "on"})
    theme.refresh_from_db()
    assert r.status_code == 302 and theme.name == "我们的节日·元宵" and theme.is_festival
    assert "我们的节日·元宵" in c.get("/activities/themes/").content.decode()


def test_theme_input_errors(tree):
    c = client_for(tree.admin)
    Theme.objects.get_or_create(name="学雷锋")
    before = Theme.objects.count()
    for data, expected in (({"name": ""}, "这个字段是必填项"), ({"name": "学雷锋"}, "已有名为“学雷锋”的主题"),
                           ({"name": "长" * 31}, "30"), ({"name": "好", "sort_order": "99999"}, "32767"),
                           ({"name": "好", "sort_order": "x"}, "整数")):
        r = c.post("/activities/themes/new/", data)
        assert r.status_code == 200 and expected in r.content.decode(), data
    assert Theme.objects.count() == before
    assert c.get("/activities/themes/99999999999999999999/edit/").status_code == 404


def test_only_district_admins_change_themes(tree):
    for user in (station_admin(tree), tree.inst_admin):
        c = client_for(user)
        assert c.get("/activities/themes/").status_code == 200
        assert c.post("/activities/themes/new/", {"name": "越权主题"}).status_code == 403
    assert client_for(tree.vol_user).get("/activities/themes/").status_code == 403
    assert not Theme.objects.filter(name="越权主题").exists()


def test_brands_in_reach(tree):
    far = Brand.objects.create(name="东站品牌", node=tree.other_station)
    c = client_for(station_admin(tree))
    r = c.post("/activities/brands/new/", {"name": "七彩假期", "node": tree.station.pk, "description": "暑期少儿"})
    assert r.status_code == 302
    mine = Brand.objects.get(name="七彩假期")
    listing = c.get("/activities/brands/").content.decode()
    assert "七彩假期" in listing and "东站品牌" not in listing
    assert c.get(f"/activities/brands/{far.pk}/edit/").status_code == 404
    assert c.post(f"/activities/brands/{far.pk}/edit/", {"name": "改", "node": tree.station.pk}).status_code == 404
    r = c.post("/activities/brands/new/", {"name": "越权", "node": tree.other_station.pk})
    assert r.status_code == 200 and "选择一个有效的选项" in r.content.decode()
    r = c.post("/activities/brands/new/", {"name": "七彩假期", "node": tree.station.pk})
    assert r.status_code == 200 and "已有名为“七彩假期”的项目品牌" in r.content.decode()
    r = c.post(f"/activities/brands/{mine.pk}/edit/", {"name": "七彩假期·寒假", "node": tree.station.pk})
    mine.refresh_from_db()
    far.refresh_from_db()
    assert r.status_code == 302 and mine.name == "七彩假期·寒假" and far.name == "东站品牌"
    assert Brand.objects.count() == 2


def test_roles_that_do_not_manage_brands(tree):
    viewer = make_user("console_viewer_b", User.Role.VIEWER, [tree.centre])
    assert client_for(viewer).get("/activities/brands/").status_code == 200
    assert client_for(viewer).post("/activities/brands/new/", {"name": "x", "node": tree.station.pk}).status_code == 403
    assert client_for(tree.vol_user).get("/activities/brands/").status_code == 403
    assert not Brand.objects.exists()
