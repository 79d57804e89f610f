"""The console's need pages: the list by stage, a need's page with the steps its viewer may take, the
refusals as messages, the overdue list, the pool, photos, the phone reveal and the figures."""

from io import BytesIO

import pytest
from django.test import Client
from PIL import Image

from tests.needs.conftest import PHONE, accepted, approved, completed, dispatched, raise_need
from wenming.core.models import AuditEntry
from wenming.needs import services
from wenming.needs.models import Need, NeedPhoto

S = Need.State


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_list_by_stage_and_scope(loop):
    t = loop.tree
    mine = raise_need(loop, description="东风社区：楼道灯坏了需要维修")
    raise_need(loop, station=t.other_station, description="东站社区：老人需要陪同就医")
    admin = client_for(t.admin)
    html = page(admin.get("/needs/"))
    assert "东风社区：楼道灯坏了" in html and "东站社区：老人需要陪同" in html
    html = page(client_for(t.far_admin).get("/needs/"))
    assert "东风社区：楼道灯坏了" not in html and "东站社区：老人需要陪同" in html
    assert mine.code in page(admin.get("/needs/?stage=review"))
    assert mine.code not in page(admin.get("/needs/?stage=dispatch"))
    assert mine.code in page(admin.get(f"/needs/?q={mine.code.lower()}"))
    for junk in ("?stage=<script>", "?node=abc", "?node=99999999999999999999", "?page=-1", "?q=" + "长" * 500):
        assert admin.get("/needs/" + junk).status_code in (200, 404)


def test_the_handler_reviews_and_dispatches_from_the_candidates(loop):
    t = loop.tree
    need = raise_need(loop)
    admin = client_for(t.admin)
    html = page(admin.get(f"/needs/{need.pk}/"))
    assert "审核通过" in html and "刘奶奶" in html and "138****5678" in html and PHONE not in html
    r = admin.post(f"/needs/{need.pk}/review/", {"approve": "1"})
    assert r.status_code == 302
    html = page(admin.get(f"/needs/{need.pk}/"))
    assert "推荐队伍" in html and loop.team.name in html
    r = admin.post(f"/needs/{need.pk}/dispatch/", {"kind": "team", "target": loop.team.pk})
    need.refresh_from_db()
    assert need.state == S.DISPATCHED and need.team == loop.team
    assert "已派单" in page(admin.get(f"/needs/{need.pk}/"))


def test_a_refusal_is_a_message_not_a_500(loop):
    need = raise_need(loop)
    admin = client_for(loop.tree.admin)
    r = admin.post(f"/needs/{need.pk}/review/", {"approve": "0", "reason": ""}, follow=True)
    assert "请填写驳回原因" in r.content.decode()
    assert Need.objects.get(pk=need.pk).state == S.SUBMITTED
    r = admin.post(f"/needs/{need.pk}/dispatch/", {"kind": "team", "target": loop.team.pk}, follow=True)
    assert "待审核" in r.content.decode()
    for bad in ({"kind": "bogus", "target": 1}, {"kind": "team", "target": "x"}, {"kind": "team", "target": 10**15}):
        assert admin.post(f"/needs/{need.pk}/dispatch/", bad).status_code == 302


def test_the_team_leader_accepts_and_completes_with_hours(loop):
    t = loop.tree
    need = dispatched(loop)
    leader = client_for(t.team_leader)
    html = page(leader.get(f"/needs/{need.pk}/"))
    assert "拒单" in html and "审核</h2>" not in html
    leader.post(f"/needs/{need.pk}/accept/")
    html = page(leader.get(f"/needs/{need.pk}/"))
    assert "完成服务" in html and t.li.name in html
    photo = BytesIO()
    Image.new("RGB", (40, 30), "red").save(photo, "PNG")
    photo.seek(0)
    photo.name = "work.png"
    r = leader.post(f"/needs/{need.pk}/complete/", {
        "report": "上门探访并打扫卫生", "people_served": "1", f"hours_{t.li.pk}": "1.5", "photos": photo})
    assert r.status_code == 302, r.content.decode()[:3000]
    need.refresh_from_db()
    assert need.state == S.COMPLETED and need.hours.get().minutes == 90
    assert NeedPhoto.objects.filter(need=need, kind="service").count() == 1
    img = leader.get(f"/needs/{need.pk}/photos/{need.photos.get().pk}/")
    assert img.status_code == 200 and img["Content-Type"] == "image/jpeg"
    assert client_for(t.far_admin).get(f"/needs/{need.pk}/photos/{need.photos.get().pk}/").status_code == 404


def test_bad_completion_shows_the_form_again(loop):
    t = loop.tree
    need = accepted(loop)
    leader = client_for(t.team_leader)
    r = leader.post(f"/needs/{need.pk}/complete/", {"report": "", f"hours_{t.li.pk}": "99"})
    assert r.status_code == 422 and "请填写服务报告" in r.content.decode()
    r = leader.post(f"/needs/{need.pk}/complete/", {"report": "完成", "photos": BytesIO(b"not an image")})
    assert r.status_code == 422
    assert Need.objects.get(pk=need.pk).state == S.ACCEPTED


def test_others_cannot_see_or_act(loop):
    t = loop.tree
    need = raise_need(loop)
    far = client_for(t.far_admin)
    assert far.get(f"/needs/{need.pk}/").status_code == 404
    assert far.post(f"/needs/{need.pk}/review/", {"approve": "1"}).status_code == 404
    assert Need.objects.get(pk=need.pk).state == S.SUBMITTED
    assert Client().get(f"/needs/{need.pk}/").status_code == 302  # to the log-in page


def test_revealing_the_phone_is_audited(loop):
    need = raise_need(loop)
    admin = client_for(loop.tree.admin)
    html = page(admin.post(f"/needs/{need.pk}/phone/"))
    assert PHONE in html
    assert AuditEntry.objects.filter(action="need.phone.reveal", object_id=str(need.pk)).count() == 1
    leader = client_for(loop.tree.team_leader)
    assert leader.post(f"/needs/{need.pk}/phone/").status_code == 403  # sees the station's needs, serves none yet
    assert AuditEntry.objects.filter(action="need.phone.reveal").count() == 1


def test_pool_and_grab_from_the_console(loop):
    t = loop.tree
    need = services.publish_need(t.admin, approved(loop))
    leader = client_for(t.team_leader)
    assert need.description[:10] in page(leader.get("/needs/pool/"))
    leader.post(f"/needs/{need.pk}/grab/", {"team": loop.team.pk})
    need.refresh_from_db()
    assert need.state == S.ACCEPTED and need.team == loop.team
    assert client_for(loop.other_leader_user).post(f"/needs/{need.pk}/grab/", {"team": loop.team.pk}).status_code \
        in (403, 404)


def test_overdue_page_lists_escalated_needs(loop):
    from datetime import timedelta

    from django.utils import timezone

    need = raise_need(loop)
    services.sweep(timezone.now() + timedelta(hours=25))
    html = page(client_for(loop.tree.admin).get("/needs/overdue/"))
    assert need.code in html and "升级1次" in html


def test_proxy_rating_and_cancel(loop):
    t = loop.tree
    need = completed(loop)
    admin = client_for(t.admin)
    admin.post(f"/needs/{need.pk}/rate/", {"stars": "4", "comment": "服务及时"})
    need.refresh_from_db()
    assert need.state == S.CLOSED and need.stars == 4
    other = raise_need(loop)
    admin.post(f"/needs/{other.pk}/cancel/", {"reason": "群众电话告知不需要了"})
    assert Need.objects.get(pk=other.pk).state == S.CANCELLED


@pytest.mark.parametrize("query", ["", "?start=2020-01-01&end=2019-01-01", "?start=bad&end=bad", "?node=abc"])
def test_figures_page(loop, query):
    completed(loop)
    r = client_for(loop.tree.admin).get("/needs/figures/" + query)
    assert r.status_code == 200
    if not query:
        assert "收集需求" in r.content.decode()


def test_batch_dispatch_proposes_within_capacity_and_confirms(loop):
    from wenming.needs.batch import propose_batch

    t = loop.tree
    needs = [approved(loop) for _ in range(loop.team.capacity + 2)]
    proposal = propose_batch(t.admin, t.station)
    assert len(proposal.lines) == len(needs)
    by_team = [line.team for line in proposal.assigned]
    # the nearby team fills up first (higher score); the district admin's reach adds the other station's team
    assert by_team.count(loop.team) == loop.team.capacity and by_team.count(loop.far_team) == 2
    assert proposal.total_score == pytest.approx(sum(line.score for line in proposal.assigned))
    admin = client_for(t.admin)
    html = page(admin.get(f"/needs/batch/?node={t.station.pk}"))
    assert "确认派单" in html
    pairs = [f"{line.need.pk}:{line.team.pk}" for line in proposal.assigned]
    r = admin.post("/needs/batch/", {"node": t.station.pk, "pair": pairs + ["junk", "1:x", f"{needs[-1].pk}:99999"]})
    assert r.status_code == 302
    assert Need.objects.filter(state=S.DISPATCHED, team=loop.team).count() == loop.team.capacity
    assert Need.objects.filter(state=S.DISPATCHED).count() == len(needs)
    assert client_for(t.far_admin).get(f"/needs/batch/?node={t.station.pk}").status_code == 404


def test_serving_through_an_activity_created_from_the_need(loop):
    from wenming.activities.models import Activity

    t = loop.tree
    need = accepted(loop)
    leader = client_for(t.team_leader)
    html = page(leader.get(f"/needs/{need.pk}/activity/"))
    assert need.code in html and need.description[:10] in html
    form = {"title": "上门探访服务", "description": need.description, "team": loop.team.pk,
            "starts_at": "2030-05-01T09:00", "ends_at": "2030-05-01T11:00", "capacity": "3", "serves": "public",
            "expected_beneficiaries": "1"}
    r = leader.post(f"/needs/{need.pk}/activity/", form)
    assert r.status_code == 302, r.content.decode()[-3000:]
    need.refresh_from_db()
    activity = Activity.objects.get()
    assert need.activity == activity and need.state == S.IN_SERVICE and activity.team == loop.team
    assert need.events.filter(action="activity").exists()
    assert leader.get(f"/needs/{need.pk}/activity/").status_code == 403  # linked already
    assert client_for(loop.other_leader_user).get(f"/needs/{need.pk}/activity/").status_code in (403, 404)


def test_team_leaders_keep_their_service_menu(loop):
    from wenming.needs.models import ServiceOffer

    leader = client_for(loop.tree.team_leader)
    r = leader.post("/needs/offers/", {"team": loop.team.pk, "category": loop.care.pk, "title": "爱心陪伴",
                                       "schedule": "每周六上午", "active": "on"})
    assert r.status_code == 302
    offer = ServiceOffer.objects.get()
    assert offer.team == loop.team and offer.active
    leader.post("/needs/offers/", {"offer": offer.pk, "team": loop.team.pk, "category": loop.care.pk, "title": "爱心陪伴"})
    offer.refresh_from_db()
    assert not offer.active
    # another team's leader can neither pick this team nor edit its offer
    other = client_for(loop.other_leader_user)
    r = other.post("/needs/offers/", {"offer": offer.pk, "team": loop.team.pk, "category": loop.care.pk, "title": "x"})
    assert r.status_code == 200 and ServiceOffer.objects.get().title == "爱心陪伴"
    assert "爱心陪伴" not in page(other.get("/needs/offers/"))
    assert page(leader.get(f"/needs/offers/?edit={offer.pk}")).count("爱心陪伴") >= 2


def test_a_station_admin_enters_a_need_on_someones_behalf(loop):
    t = loop.tree
    admin = client_for(t.far_admin)
    html = page(admin.get("/needs/new/"))
    assert t.other_station.name in html and t.station.name not in html  # only stations in reach
    r = admin.post("/needs/new/", {"station": t.other_station.pk, "category": loop.care.pk,
                                   "description": "代老人点单：每周上门理发", "contact_name": "陈奶奶",
                                   "phone": "13700001111", "urgency": "normal"})
    assert r.status_code == 302
    need = Need.objects.get()
    assert need.source == Need.Source.PROXY and need.entered_by == t.far_admin and need.station == t.other_station
    r = admin.post("/needs/new/", {"station": t.station.pk, "category": loop.care.pk, "description": "越权点单测试",
                                   "contact_name": "陈", "phone": "13700001111", "urgency": "normal"})
    assert r.status_code == 200 and Need.objects.count() == 1
    assert client_for(t.team_leader).get("/needs/new/").status_code == 403


def test_team_leaders_claim_wishes_from_the_pool_page(loop):
    t = loop.tree
    wish = services.review_need(t.admin, raise_need(loop, is_wish=True, description="想要一副老花镜看清手机上的字"),
                                approve=True)
    leader = client_for(t.team_leader)
    assert "想要一副老花镜" in page(leader.get("/needs/pool/"))
    leader.post(f"/needs/{wish.pk}/claim/", {"team": loop.team.pk})
    wish.refresh_from_db()
    assert wish.state == S.ACCEPTED and wish.team == loop.team
