"""The volunteer's inbox (/notices/): own notices only, unread first, opening marks read and
follows the notice's link (inside the site only), "all read" touches only one's own."""

import pytest
from django.utils import timezone

from tests.ledger.helpers import build_tree, make_user
from wenming.core.models import User
from wenming.notices.models import Notice
from wenming.notices.services import notify

HUGE = "99999999999999999999999"


@pytest.fixture
def tree(db):
    return build_tree()


@pytest.fixture
def li_user(tree):
    user = make_user("notices_li", User.Role.VOLUNTEER)
    tree.li.user = user
    tree.li.save(update_fields=["user"])
    return user


def text(r):
    return r.content.decode()


def test_inbox_needs_a_login(client, tree):
    r = client.get("/notices/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/notices/"
    r = client.post("/notices/read-all/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_inbox_lists_own_notices_unread_first(client, tree, li_user):
    old = notify(tree.zhang, "waitlist_promoted", "候补成功：旧的一条", "已读过", "/a/1/")
    Notice.objects.filter(pk=old.pk).update(read_at=timezone.now())
    notify(tree.zhang, "activity_cancelled", "活动已取消：端午包粽子", "原因：暴雨", "/a/2/")
    notify(tree.zhang, "hours_settled", "新增核验时长2小时", "", "/me/records/")
    notify(tree.li, "hours_settled", "李四的消息")
    client.force_login(tree.vol_user)
    r = client.get("/notices/")
    assert r.status_code == 200
    body = text(r)
    assert "李四的消息" not in body
    assert body.index("新增核验时长2小时") < body.index("活动已取消：端午包粽子") < body.index("候补成功：旧的一条")
    assert "2条未读" in body and "全部标为已读" in body


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, tree):
    n = notify(tree.zhang, "activity_cancelled", "活动已取消", "", "/a/42/")
    client.force_login(tree.vol_user)
    r = client.get(f"/notices/{n.pk}/")
    assert r.status_code == 302 and r["Location"] == "/a/42/"
    n.refresh_from_db()
    assert n.read_at is not None
    # Opening it again keeps the first reading time.
    first = n.read_at
    client.get(f"/notices/{n.pk}/")
    n.refresh_from_db()
    assert n.read_at == first


@pytest.mark.parametrize("url", ["", "https://evil.example/", "//evil.example/x", "javascript:alert(1)",
                                 "/\\evil.example"])
def test_a_notice_never_leads_off_the_site(client, tree, url):
    n = notify(tree.zhang, "x", "标题", "", url)
    client.force_login(tree.vol_user)
    r = client.get(f"/notices/{n.pk}/")
    assert r.status_code == 302 and r["Location"] == f"/notices/#n{n.pk}"


def test_a_volunteer_cannot_open_or_mark_anothers_notice(client, tree, li_user):
    theirs = notify(tree.li, "x", "李四的消息", "", "/a/1/")
    client.force_login(tree.vol_user)
    for path in (f"/notices/{theirs.pk}/", "/notices/0/", f"/notices/{HUGE}/", "/notices/abc/"):
        assert client.get(path).status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_ones_own(client, tree, li_user):
    mine = [notify(tree.zhang, "x", f"第{i}条") for i in range(3)]
    theirs = notify(tree.li, "x", "李四的")
    client.force_login(tree.vol_user)
    assert client.get("/notices/read-all/")["Location"] == "/notices/"  # a GET changes nothing
    assert Notice.objects.filter(read_at=None).count() == 4
    r = client.post("/notices/read-all/", follow=True)
    assert "已将3条消息标为已读。" in text(r) and "没有未读消息" in text(r)
    assert all(Notice.objects.get(pk=n.pk).read_at for n in mine)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_badge_counts_unread_and_disappears_when_read(client, tree):
    for i in range(3):
        notify(tree.zhang, "x", f"第{i}条")
    client.force_login(tree.vol_user)
    assert 'class="notice-badge" aria-label="3条未读">3</span>' in text(client.get("/notices/"))
    client.post("/notices/read-all/")
    assert 'class="notice-badge"' not in text(client.get("/notices/"))
    Notice.objects.bulk_create([Notice(volunteer=tree.zhang, kind="x", title="t") for _ in range(120)])
    assert ">99+</span>" in text(client.get("/notices/"))


def test_an_account_without_a_volunteer_has_an_inbox_too(client, tree):
    """Every account has an inbox now; one without a volunteer reads it in the console layout."""
    client.force_login(tree.admin)
    r = client.get("/notices/")
    assert r.status_code == 200 and "没有未读消息" in text(r) and 'class="sidenav"' in text(r)
    assert client.post("/notices/read-all/")["Location"] == "/notices/"


@pytest.mark.parametrize("page", ["0", "-1", HUGE, "abc", "%00"])
def test_odd_pages(client, tree, page):
    client.force_login(tree.vol_user)
    r = client.get(f"/notices/?page={page}")
    assert r.status_code == (400 if page == "%00" else 200)
