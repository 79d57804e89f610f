"""Every account has an inbox: notices addressed to the account and to its volunteer, in the
inbox and the badge (phone pages and the console's top bar), and never anyone else's."""

import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wenming.core.models import User
from wenming.notices import queries
from wenming.notices.models import Notice
from wenming.notices.services import notify, notify_user, notify_users

HUGE = "99999999999999999999999"


def text(r):
    return r.content.decode()


@pytest.fixture
def leader(tree):
    """The team leader's account, linked to the volunteer 李四."""
    tree.li.user = tree.team_leader
    tree.li.save(update_fields=["user"])
    return tree.team_leader


def badge(body: str) -> str | None:
    m = re.search(r'class="notice-badge"[^>]*>([^<]+)</span>', body)
    return m and m.group(1)


def test_a_notice_to_an_account_shows_in_its_console_inbox_and_badge(client, tree):
    notify_user(tree.admin, "need_submitted", "新的群众需求待审核", "东风社区：修理路灯", "/needs/1/")
    notify_user(tree.admin.pk, "need_overdue", "需求超时未接单")
    notify_user(tree.admin2, "x", "另一位管理员的消息")
    client.force_login(tree.admin)
    body = text(client.get("/notices/"))
    assert "新的群众需求待审核" in body and "需求超时未接单" in body and "另一位管理员的消息" not in body
    assert 'class="sidenav"' in body and 'class="ph-tabs"' not in body  # the console layout
    assert badge(body) == "2"
    # The badge is on every console page, not only the inbox.
    assert badge(text(client.get(reverse("org:tree")))) == "2"
    client.post("/notices/read-all/")
    assert badge(text(client.get(reverse("org:tree")))) is None


def test_a_volunteer_with_an_account_sees_both_kinds(client, tree, leader):
    notify(tree.li, "activity_cancelled", "写给李四志愿者的")
    notify_user(leader, "team_task", "写给队长账号的")
    notify(tree.zhang, "x", "写给张三的")
    notify_user(tree.admin, "x", "写给区管理员的")
    client.force_login(leader)
    body = text(client.get("/notices/"))
    assert "写给李四志愿者的" in body and "写给队长账号的" in body
    assert "写给张三的" not in body and "写给区管理员的" not in body
    assert badge(body) == "2" and "2条未读" in body
    r = client.post("/notices/read-all/", follow=True)
    assert "已将2条消息标为已读。" in text(r)
    assert Notice.objects.filter(read_at=None).count() == 2  # 张三's and the admin's stay unread


def test_a_volunteer_account_reads_the_inbox_on_the_phone(client, tree):
    notify_user(tree.vol_user, "x", "写给张三账号的")
    notify(tree.zhang, "x", "写给张三志愿者的")
    client.force_login(tree.vol_user)
    body = text(client.get("/notices/"))
    assert 'class="ph-tabs"' in body and 'class="sidenav"' not in body
    assert "写给张三账号的" in body and "写给张三志愿者的" in body and badge(body) == "2"


def test_no_account_opens_or_marks_anothers_notice(client, tree, leader):
    theirs = [
        notify_user(tree.admin2, "x", "别的管理员的", "", "/a/1/"),
        notify(tree.zhang, "x", "张三的", "", "/a/2/"),
        notify_user(tree.vol_user, "x", "张三账号的", "", "/a/3/"),
    ]
    unlinked = notify(tree.wang, "x", "王五的（没有账号）")
    client.force_login(leader)
    for n in [*theirs, unlinked]:
        assert client.get(f"/notices/{n.pk}/").status_code == 404
    for path in ("/notices/0/", f"/notices/{HUGE}/", "/notices/-1/"):
        assert client.get(path).status_code == 404
    client.post("/notices/read-all/")
    assert Notice.objects.filter(read_at=None).count() == 4
    # And the admin without a volunteer does not reach volunteers' notices by id either.
    client.force_login(tree.admin)
    assert all(client.get(f"/notices/{n.pk}/").status_code == 404 for n in [*theirs, unlinked])


def test_opening_an_accounts_notice_marks_it_read_and_follows_it(client, tree, leader):
    mine = notify_user(leader, "x", "队长的", "", "/needs/7/")
    via_volunteer = notify(tree.li, "x", "李四的", "", "")
    client.force_login(leader)
    assert client.get(f"/notices/{mine.pk}/")["Location"] == "/needs/7/"
    assert client.get(f"/notices/{via_volunteer.pk}/")["Location"] == f"/notices/#n{via_volunteer.pk}"
    assert not Notice.objects.filter(pk__in=[mine.pk, via_volunteer.pk], read_at=None).exists()


def test_unlinking_the_volunteer_takes_its_notices_out_of_the_inbox(client, tree, leader):
    notify(tree.li, "x", "李四的")
    client.force_login(leader)
    assert "李四的" in text(client.get("/notices/"))
    tree.li.user = None
    tree.li.save(update_fields=["user"])
    assert "李四的" not in text(client.get("/notices/"))


@pytest.mark.parametrize("linked", [False, True])
def test_the_badge_is_one_count_query(tree, linked):
    if linked:
        tree.li.user = tree.team_leader
        tree.li.save(update_fields=["user"])
        notify(tree.li, "x", "李四的")
    notify_user(tree.team_leader, "x", "队长的")
    user = User.objects.get(pk=tree.team_leader.pk)  # nothing cached on the account
    with CaptureQueriesContext(connection) as ctx:
        n = queries.unread_count(user)
    assert n == (2 if linked else 1)
    assert len(ctx.captured_queries) == 1 and "COUNT(" in ctx.captured_queries[0]["sql"].upper()


def test_notify_users_writes_one_notice_per_account(tree):
    assert notify_users([tree.admin.pk, tree.inst_admin.pk, tree.far_admin.pk], "x", "全区通知") == 3
    for user in (tree.admin, tree.inst_admin, tree.far_admin):
        assert queries.unread_count(user) == 1
    assert queries.unread_count(tree.admin2) == 0
    assert notify_users([], "x", "nobody") == 0


def test_a_notice_needs_an_addressee(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.create(kind="x", title="发给谁？")


def test_the_inbox_reads_in_a_fixed_number_of_queries(client, tree, leader):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/notices/").status_code == 200
        return len(ctx.captured_queries)

    client.force_login(leader)
    notify(tree.li, "x", "一")
    notify_user(leader, "x", "二")
    few = count()
    for i in range(15):
        notify(tree.li, "x", f"李四{i}")
        notify_user(leader, "x", f"队长{i}")
    assert count() == few
