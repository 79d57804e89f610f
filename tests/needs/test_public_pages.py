"""The residents' phone pages /n/: 群众点单 without an account, the tracking code, following, cancelling
and rating a need, the wish wall and the service menu — and what hostile input and floods get."""

import re
import struct
import zlib
from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from tests.needs.conftest import PHONE, approved, completed, dispatched, raise_need
from wenming.needs import photos, public_views, services
from wenming.needs.models import Need, NeedEvent, NeedPhoto, ServiceOffer

pytestmark = pytest.mark.django_db

S = Need.State
NEW, TRACK = "/n/new/", "/n/track/"


def html(response) -> str:
    return response.content.decode()


def form_data(loop, **extra) -> dict:
    data = {
        "station": loop.tree.station.pk, "category": loop.care.pk,
        "description": "独居老人腿脚不便，希望每周有人上门陪聊、帮忙买菜",
        "urgency": "normal", "contact_name": "刘奶奶", "phone": "13900001111",
        "address": "东风路12号3栋2单元", "wished_at": "", "lat": "", "lng": "",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def submit(loop, client=None, ip="10.0.0.1", **extra):
    client = client or Client()
    return client, client.post(NEW, form_data(loop, **extra), REMOTE_ADDR=ip)


def prove(client, code, last4="5678", ip="10.0.0.9"):
    return client.post(TRACK, {"code": code, "last4": last4}, REMOTE_ADDR=ip)


def field_errors(page: str, field: str) -> str:
    """The field's block on the page (its label, widget, help and errors)."""
    assert f'id="field-{field}"' in page, f"no field {field} on the page"
    return page.split(f'id="field-{field}"')[1].split('id="field-')[0]


def jpeg(size=(64, 48), color="red") -> bytes:
    out = BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png(size=(40, 40)) -> bytes:
    out = BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 200)).save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    out = BytesIO()
    Image.new("RGB", (10, 10), "blue").save(out, "GIF")
    return out.getvalue()


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A tiny file that claims a picture of 10 billion pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(name, content, kind="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=kind)


# --- Home and the form ---------------------------------------------------------------------------


def test_home_offers_the_four_ways_in_and_explains_the_loop(db):
    r = Client().get("/n/")
    page = html(r)
    assert r.status_code == 200 and 'class="mobile"' in page and "sidenav" not in page
    for text in ("我要点单", "查询进度", "心愿墙", "服务清单"):
        assert text in page
    assert page.index("点单") < page.index("派单") < page.index("接单") < page.index("评单")
    for url in ("/n/new/", "/n/track/", "/n/wishes/", "/n/menu/"):
        assert f'href="{url}"' in page
    assert "cdn" not in page.lower()


def test_form_has_grouped_categories_and_stations(loop):
    r = Client().get(NEW)
    page = html(r)
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page
    assert '<optgroup label="助老助残">' in page and f'<option value="{loop.care.pk}">上门探访</option>' in page
    assert f'<optgroup label="{loop.tree.institute.name}">' in page
    assert f'<optgroup label="{loop.tree.other_institute.name}">' in page
    # only stations can be chosen: the institutes are group labels, never options
    stations = page.split('name="station"')[1].split("</select>")[0]
    assert f'<option value="{loop.tree.institute.pk}"' not in stations
    assert f'<option value="{loop.tree.centre.pk}"' not in stations
    assert 'type="datetime-local"' in page and 'accept="image/jpeg,image/png"' in page
    assert 'name="is_wish"' in page and "个人信息说明" in page
    assert 'type="tel"' in page and "使用我的位置" in page and 'type="hidden" name="lat"' in page


def test_station_link_preselects_the_station_and_wish_link_ticks_the_wish(loop):
    page = html(Client().get(NEW, {"station": loop.tree.other_station.pk, "wish": "1"}))
    assert f'<option value="{loop.tree.other_station.pk}" selected>' in page
    assert re.search(r'<input type="checkbox" name="is_wish"[^>]*checked', page)


def test_find_my_station_narrows_the_list_and_keeps_what_was_typed(loop):
    c = Client()
    data = form_data(loop, station="", find="东站", do_find="1", description="想请人教我用智能手机挂号")
    r = c.post(NEW, data, REMOTE_ADDR="10.0.0.1")
    page = html(r)
    assert r.status_code == 200 and not Need.objects.exists()
    assert loop.tree.other_station.name in page and loop.tree.station.name not in page
    assert "找到1个实践站" in page and "想请人教我用智能手机挂号" in page
    assert "errorlist" not in page.split("找到1个实践站")[0]  # no red before anything is checked
    # by division code, and a name that matches nothing
    page = html(c.get(NEW, {"find": "430502001"}))
    assert loop.tree.station.name in page and loop.tree.other_station.name not in page
    page = html(c.get(NEW, {"find": "不存在的村"}))
    assert "没有找到匹配的实践站" in page
    # typing in the search box and pressing enter (no station chosen) is a search, not a failed submission
    r = c.post(NEW, form_data(loop, station="", find="东风"), REMOTE_ADDR="10.0.0.1")
    page = html(r)
    assert r.status_code == 200 and "请选择您所在的实践站" not in page and "找到1个实践站" in page
    assert not Need.objects.exists()
    # once a station is chosen, the same box no longer gets in the way of submitting
    r = c.post(NEW, form_data(loop, find="东风"), REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 302 and Need.objects.get().station == loop.tree.station


# --- Submitting ----------------------------------------------------------------------------------


def test_submission_shows_the_code_after_a_redirect(loop):
    c, r = submit(loop)
    assert r.status_code == 302 and r["Location"] == "/n/submitted/"
    need = Need.objects.get()
    assert need.source == Need.Source.PUBLIC and need.state == S.SUBMITTED and need.entered_by is None
    assert need.station == loop.tree.station and need.category == loop.care
    assert need.phone_masked == "139****1111" and "13900001111" not in need.phone_enc
    page = html(c.get("/n/submitted/"))
    assert f'<p class="n-code" id="need-code">{need.code}</p>' in page
    assert "后4位" in page and "139****1111" in page and "13900001111" not in page
    # a reload shows it again (Post/Redirect/Get), and this browser may follow it at once
    assert need.code in html(c.get("/n/submitted/"))
    r = c.get(f"/n/track/{need.code}/")
    assert r.status_code == 200 and "独居老人腿脚不便" in html(r)


def test_submitted_page_without_a_fresh_submission_goes_to_the_form(db):
    r = Client().get("/n/submitted/")
    assert r.status_code == 302 and r["Location"] == NEW


def test_position_wished_time_and_urgency_are_kept(loop):
    when = (timezone.localtime() + timedelta(days=3)).replace(second=0, microsecond=0)
    submit(loop, lat="27.2444", lng="111.4672", wished_at=when.strftime("%Y-%m-%dT%H:%M"), urgency="urgent")
    need = Need.objects.get()
    assert (need.lat, need.lng) == (27.2444, 111.4672)
    assert need.wished_at == when and need.urgency == Need.Urgency.URGENT


def test_csrf_is_required(loop):
    c = Client(enforce_csrf_checks=True)
    assert c.post(NEW, form_data(loop)).status_code == 403
    assert c.post(TRACK, {"code": "ABCDEFGH", "last4": "1234"}).status_code == 403
    assert not Need.objects.exists()


# --- Following: only a browser that proved the code ----------------------------------------------


def test_another_browser_must_prove_code_and_phone(loop):
    need = raise_need(loop, description="请帮忙修一下家里的电视机")
    stranger = Client()
    r = stranger.get(f"/n/track/{need.code}/")
    assert r.status_code == 302 and r["Location"] == f"/n/track/?code={need.code}"
    page = html(stranger.get(r["Location"]))
    assert "请帮忙修一下家里的电视机" not in page and f'value="{need.code}"' in page
    r = prove(stranger, need.code, last4="0000")
    assert r.status_code == 200 and "查询码或手机号后4位不正确" in html(r)
    assert stranger.get(f"/n/track/{need.code}/").status_code == 302
    r = prove(stranger, need.code.lower(), last4=PHONE[-4:])
    assert r.status_code == 302 and r["Location"] == f"/n/track/{need.code}/"
    page = html(stranger.get(r["Location"]))
    assert "请帮忙修一下家里的电视机" in page and "待审核" in page and loop.tree.station.name in page
    assert "刘奶奶" not in page and "刘**" in page and "138****5678" in page and PHONE not in page
    assert "东风路12号3栋" not in page  # the address is not needed to follow a need
    # the same answer for a code that does not exist: nothing tells which codes exist
    assert "查询码或手机号后4位不正确" in html(prove(Client(), "ZZZZZZZZ", last4=PHONE[-4:]))


def test_a_shared_phone_can_forget_the_codes(loop):
    c, _ = submit(loop)
    code = Need.objects.get().code
    page = html(c.get(TRACK))
    assert f'href="/n/track/{code}/"' in page and "清除本机记录" in page
    assert c.get("/n/track/forget/").status_code == 405
    r = c.post("/n/track/forget/", follow=True)
    assert "本机已不再保存" in html(r) and f'href="/n/track/{code}/"' not in html(r)
    assert c.get(f"/n/track/{code}/").status_code == 302
    assert c.get("/n/submitted/").status_code == 302


def test_tracking_form_checks_shapes_without_counting_them(loop):
    c = Client()
    page = html(c.post(TRACK, {"code": "<b>", "last4": "12a4"}, REMOTE_ADDR="10.0.0.5"))
    assert "查询码由8位字母和数字组成" in page and "请填写手机号的后4位数字" in page
    assert 'value="&lt;b&gt;"' in page
    page = html(c.post(TRACK, {}, REMOTE_ADDR="10.0.0.5"))
    assert "请填写查询码" in page and "请填写手机号后4位" in page


def test_wrong_guesses_are_limited(loop):
    need = raise_need(loop)
    c = Client()
    for i in range(services.TRACK_GUESSES_PER_HOUR):
        assert prove(c, need.code, last4=f"{i:04d}", ip="10.9.9.9").status_code == 200
    r = prove(c, need.code, last4=PHONE[-4:], ip="10.9.9.9")
    assert r.status_code == 429 and "查询失败次数过多" in html(r)
    assert c.get(f"/n/track/{need.code}/").status_code == 302
    assert prove(Client(), need.code, last4=PHONE[-4:], ip="10.9.9.10").status_code == 302


def test_odd_codes_in_the_address_go_to_the_form(loop):
    c = Client()
    for code in ("x" * 300, "<script>", "%00", "..", "AB CD"):
        r = c.get(f"/n/track/{code}/")
        assert r.status_code in (302, 400, 404), code


def test_timeline_names_nodes_and_teams_never_accounts_or_phones(loop):
    need = dispatched(loop)
    services.accept_need(loop.tree.team_leader, need)
    NeedEvent.objects.create(need=need, action="note", actor_label="x", note="请联系13912345678确认时间")
    c = Client()
    prove(c, need.code)
    page = html(c.get(f"/n/track/{need.code}/"))
    assert "已接单" in page
    timeline = page.split('id="timeline"')[1].split("</ol>")[0]
    assert "群众本人" in timeline and loop.tree.centre.name in timeline and loop.team.name in timeline
    assert "审核通过" in timeline and "派单" in timeline and "接单" in timeline
    for secret in ("ledger_admin", "ledger_leader", "13912345678", "赵队长"):
        assert secret not in page
    assert "139****5678" in timeline
    # the step indicator: 点单 and 派单 and 接单 done, 评单 to come
    steps = re.findall(r'<li class="(\w*)"[^>]*>(点单|派单|接单|评单)</li>', page)
    assert steps == [("done", "点单"), ("done", "派单"), ("done", "接单"), ("", "评单")]


def test_internal_events_are_not_shown(loop):
    need = raise_need(loop)
    NeedEvent.objects.create(need=need, action="overdue", actor_label="系统", note="内部备注：审核超时",
                             public=False)
    c = Client()
    prove(c, need.code)
    assert "内部备注" not in html(c.get(f"/n/track/{need.code}/"))


def test_a_rejection_names_the_node_and_its_reason(loop):
    need = services.review_need(loop.tree.admin, raise_need(loop), approve=False, reason="不属于志愿服务范围")
    c = Client()
    prove(c, need.code)
    page = html(c.get(f"/n/track/{need.code}/"))
    state = page.split('id="need-state"')[1].split("</section>")[0]
    assert "已驳回" in state and "不属于志愿服务范围" in state and f"审核单位：{need.node.name}" in state
    assert 'action="/n/track/' not in page  # neither cancel nor rate


# --- Cancelling and rating -----------------------------------------------------------------------


def test_resident_cancels_with_a_reason(loop):
    c, _ = submit(loop)
    need = Need.objects.get()
    page = html(c.get(f"/n/track/{need.code}/"))
    assert f'action="/n/track/{need.code}/cancel/"' in page
    r = c.post(f"/n/track/{need.code}/cancel/", {"reason": "  "})
    assert r.status_code == 200 and "请填写取消原因" in html(r)
    need.refresh_from_db()
    assert need.state == S.SUBMITTED
    r = c.post(f"/n/track/{need.code}/cancel/", {"reason": "x" * 201})
    assert "不能超过200个字" in html(r)
    r = c.post(f"/n/track/{need.code}/cancel/", {"reason": "问题已经解决了"}, follow=True)
    page = html(r)
    need.refresh_from_db()
    assert need.state == S.CANCELLED and need.reason == "问题已经解决了"
    assert "您的需求已取消" in page and "取消原因：问题已经解决了" in page
    assert "/cancel/" not in page
    last = need.events.last()
    assert last.action == "cancelled" and last.actor is None and last.actor_label == services.RESIDENT


@pytest.mark.parametrize("build", [approved, dispatched])
def test_approved_or_dispatched_needs_can_still_be_cancelled(loop, build):
    need = build(loop)
    c = Client()
    prove(c, need.code)
    assert f'action="/n/track/{need.code}/cancel/"' in html(c.get(f"/n/track/{need.code}/"))
    c.post(f"/n/track/{need.code}/cancel/", {"reason": "家里人已经帮忙了"})
    need.refresh_from_db()
    assert need.state == S.CANCELLED and need.team is None


def test_cancel_needs_the_proof_and_an_open_need(loop):
    need = raise_need(loop)
    r = Client().post(f"/n/track/{need.code}/cancel/", {"reason": "不需要了"})
    assert r.status_code == 302 and r["Location"].startswith("/n/track/?")
    need.refresh_from_db()
    assert need.state == S.SUBMITTED
    taken = services.accept_need(loop.tree.team_leader, dispatched(loop))
    c = Client()
    prove(c, taken.code)
    assert "/cancel/" not in html(c.get(f"/n/track/{taken.code}/"))
    r = c.post(f"/n/track/{taken.code}/cancel/", {"reason": "不需要了"}, follow=True)
    taken.refresh_from_db()
    assert taken.state == S.ACCEPTED and "不能取消" in html(r)
    assert Client().get(f"/n/track/{need.code}/cancel/").status_code in (302, 405)


def test_resident_rates_a_completed_need(loop):
    need = completed(loop)
    c = Client()
    prove(c, need.code)
    page = html(c.get(f"/n/track/{need.code}/"))
    assert "为这次服务评价" in page and f'action="/n/track/{need.code}/rate/"' in page
    assert "待评价" in page
    for bad in ("6", "0", "abc", ""):
        r = c.post(f"/n/track/{need.code}/rate/", {"stars": bad, "comment": "好"})
        assert r.status_code == 200 and "请选择1到5星" in html(r), bad
    r = c.post(f"/n/track/{need.code}/rate/", {"stars": "4", "comment": "很及时<script>alert(1)</script>"},
               follow=True)
    page = html(r)
    need.refresh_from_db()
    assert need.state == S.CLOSED and need.stars == 4 and need.rated_at
    assert "感谢您的评价" in page and "★★★★☆" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "/rate/" not in page
    r = c.post(f"/n/track/{need.code}/rate/", {"stars": "1"}, follow=True)
    need.refresh_from_db()
    assert need.stars == 4 and "不能评价" in html(r)


def test_rating_is_only_offered_when_completed(loop):
    need = dispatched(loop)
    c = Client()
    prove(c, need.code)
    assert "/rate/" not in html(c.get(f"/n/track/{need.code}/"))
    r = c.post(f"/n/track/{need.code}/rate/", {"stars": "5"}, follow=True)
    need.refresh_from_db()
    assert need.stars is None and need.state == S.DISPATCHED and "不能评价" in html(r)


# --- Hostile input -------------------------------------------------------------------------------


def test_missing_fields_are_named_next_to_each_field(loop):
    r = Client().post(NEW, {}, REMOTE_ADDR="10.0.0.1")
    page = html(r)
    assert r.status_code == 200 and not Need.objects.exists()
    expected = {"station": "请选择您所在的实践站", "category": "请选择需求类别", "description": "请填写需求描述",
                "contact_name": "请填写联系人姓名", "phone": "请填写手机号码", "urgency": "请选择紧急程度"}
    for field, message in expected.items():
        assert message in field_errors(page, field), field
    assert "请按红字提示修改后再提交" in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"category": "abc"}, "category", "请从列表中选择需求类别"),
    ({"category": "99999999999999999999999"}, "category", "请从列表中选择需求类别"),
    ({"station": "abc"}, "station", "请从列表中选择实践站"),
    ({"station": "-1"}, "station", "请从列表中选择实践站"),
    ({"station": "99999999999999999999999"}, "station", "请从列表中选择实践站"),
    ({"description": "x" * 1001}, "description", "不能超过1000个字"),
    ({"description": "太短"}, "description", "至少5个字"),
    ({"contact_name": "张" * 51}, "contact_name", "不能超过50个字"),
    ({"contact_name": "<b>王</b>"}, "contact_name", "不能含特殊符号"),
    ({"phone": "12345"}, "phone", "11位中国大陆手机号"),
    ({"phone": "1" * 30}, "phone", "11位"),
    ({"address": "路" * 201}, "address", "不能超过200个字"),
    ({"urgency": "panic"}, "urgency", "请选择紧急程度"),
    ({"wished_at": "明天下午"}, "wished_at", "请选择正确的日期和时间"),
    ({"wished_at": "2001-01-01T10:00"}, "wished_at", "半年之内"),
    ({"wished_at": "9999-12-31T23:59"}, "wished_at", "半年之内"),
    ({"lat": "27.1"}, "location", "位置信息不完整"),
    ({"lat": "abc", "lng": "111"}, "location", "位置信息无效"),
    ({"lat": "nan", "lng": "inf"}, "location", "位置信息无效"),
    ({"lat": "95", "lng": "111"}, "location", "位置信息无效"),
])
def test_bad_values_are_refused_next_to_their_field(loop, changes, field, message):
    r = Client().post(NEW, form_data(loop, **changes), REMOTE_ADDR="10.0.0.1")
    page = html(r)
    assert r.status_code == 200, page
    assert message in field_errors(page, field)
    assert not Need.objects.exists() and not NeedEvent.objects.exists()


def test_a_station_must_be_a_station(loop):
    for other in (loop.tree.institute, loop.tree.centre):
        page = html(Client().post(NEW, form_data(loop, station=other.pk), REMOTE_ADDR="10.0.0.1"))
        assert "请从列表中选择实践站" in field_errors(page, "station")
    assert not Need.objects.exists()


def test_an_inactive_category_is_refused(loop):
    loop.care.active = False
    loop.care.save(update_fields=["active"])
    page = html(Client().post(NEW, form_data(loop), REMOTE_ADDR="10.0.0.1"))
    assert "请从列表中选择需求类别" in field_errors(page, "category") and not Need.objects.exists()


def test_scripts_in_text_are_shown_escaped(loop):
    c, r = submit(loop, description='<script>alert("x")</script> 请帮忙<img src=x onerror=alert(1)>')
    assert r.status_code == 302
    need = Need.objects.get()
    page = html(c.get(f"/n/track/{need.code}/"))
    assert "<script>alert(" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # and on a refused form the typed text comes back escaped too
    page = html(Client().post(NEW, form_data(loop, phone="1", description="<script>alert(2)</script>"),
                              REMOTE_ADDR="10.0.0.2"))
    assert "<script>alert(2)</script>" not in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_full_width_phone_digits_are_accepted(loop):
    submit(loop, phone="１３９ ０００１-２２２２")
    assert Need.objects.get().phone_masked == "139****2222"


# --- Photos --------------------------------------------------------------------------------------


def test_photos_are_kept_re_encoded(loop):
    data = form_data(loop, photos=[upload("a.jpg", jpeg()), upload("b.png", png(), "image/png")])
    r = Client().post(NEW, data, REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 302
    kept = list(NeedPhoto.objects.filter(need=Need.objects.get()))
    assert len(kept) == 2 and all(p.kind == "need" and bytes(p.image)[:2] == b"\xff\xd8" for p in kept)
    assert (kept[1].width, kept[1].height) == (40, 40)


@pytest.mark.parametrize(("files", "message"), [
    ([upload("notes.jpg", b"this is a text file, not a photo\n" * 20)], "无法识别的图片文件"),
    ([upload("anim.gif", gif(), "image/gif")], "只支持 JPG 或 PNG"),
    ([upload("big.jpg", b"\xff\xd8" + b"0" * photos.MAX_BYTES)], "不能超过5MB"),
    ([upload("bomb.png", png_bomb(8000, 8000), "image/png")], "尺寸过大"),
    ([upload("bomb.png", png_bomb(), "image/png")], "尺寸过大"),
    ([upload(f"{i}.jpg", jpeg()) for i in range(4)], "最多上传3张照片"),
    ([upload("a.jpg", jpeg()), upload("empty.jpg", b"")], "照片文件是空的"),
    ([upload("a.jpg", jpeg()), upload("cut.jpg", jpeg((400, 300))[:300])], "第2张"),
])
def test_bad_photos_are_refused_and_nothing_is_kept(loop, files, message):
    r = Client().post(NEW, form_data(loop, photos=files), REMOTE_ADDR="10.0.0.1")
    page = html(r)
    assert r.status_code == 200
    assert message in field_errors(page, "photos")
    assert "照片没有保存，提交前请重新选择照片" in page
    assert "独居老人腿脚不便" in page  # what was typed is kept
    assert not Need.objects.exists() and not NeedPhoto.objects.exists()


def test_a_body_too_large_is_refused_before_reading_it(loop):
    r = Client().post(NEW, form_data(loop), REMOTE_ADDR="10.0.0.1", CONTENT_LENGTH=str(50 * 1024 * 1024))
    assert r.status_code == 413 and "提交的内容过大" in html(r)
    assert not Need.objects.exists()


def test_photo_checks_are_limited_per_address(loop):
    bad = form_data(loop, phone="1")  # refused by the form: never reaches the service's counter
    c = Client()
    for _ in range(public_views.PHOTO_CHECKS_PER_HOUR):
        data = dict(bad, photos=[upload("a.jpg", jpeg())])
        assert c.post(NEW, data, REMOTE_ADDR="10.7.7.7").status_code == 200
    r = c.post(NEW, dict(bad, photos=[upload("a.jpg", jpeg())]), REMOTE_ADDR="10.7.7.7")
    assert r.status_code == 429 and "提交过于频繁" in html(r)


# --- Floods --------------------------------------------------------------------------------------


@override_settings(WENMING_NEED_INTAKE_PER_HOUR=5)
def test_flood_from_one_address_gets_429_with_the_message_and_keeps_the_form(loop):
    c = Client()
    for i in range(5):
        _, r = submit(loop, client=c, ip="10.5.5.5", phone=f"1390000{i:04d}")
        assert r.status_code == 302
    _, r = submit(loop, client=c, ip="10.5.5.5", phone="13700001234", description="第六条需求：请帮忙修水管")
    page = html(r)
    assert r.status_code == 429
    assert "同一网络每小时最多提交5条需求" in page and "第六条需求：请帮忙修水管" in page
    assert Need.objects.count() == 5
    _, r = submit(loop, ip="10.5.5.6", phone="13700001234")
    assert r.status_code == 302


@override_settings(WENMING_NEED_INTAKE_PER_PHONE_DAY=3)
def test_flood_from_one_phone_gets_429(loop):
    for i in range(3):
        assert submit(loop, ip=f"10.6.0.{i}")[1].status_code == 302
    _, r = submit(loop, ip="10.6.0.99")
    assert r.status_code == 429 and "同一手机号每天最多提交3条需求" in html(r)
    assert Need.objects.count() == 3


# --- Wish wall -----------------------------------------------------------------------------------


def test_wish_goes_on_the_wall_without_personal_data(loop):
    c, r = submit(loop, is_wish="on", description="想要一本新华字典给孙子上学用", contact_name="周大爷",
                  phone="13600002468", address="光明巷7号")
    assert r.status_code == 302
    wish = Need.objects.get()
    assert wish.is_wish and wish.source == Need.Source.WISH
    assert "心愿墙" in html(c.get("/n/submitted/"))
    assert "想要一本新华字典" not in html(Client().get("/n/wishes/"))  # not yet reviewed
    services.review_need(loop.tree.admin, wish, approve=True)
    raise_need(loop, description="普通需求不上心愿墙")
    page = html(Client().get("/n/wishes/"))
    assert "想要一本新华字典给孙子上学用" in page and loop.tree.station.name in page and "上门探访" in page
    for private in ("周大爷", "周*", "13600002468", "136****2468", "2468", "光明巷7号", wish.code):
        assert private not in page, private
    assert "普通需求不上心愿墙" not in page


def test_wish_wall_pages(loop):
    for i in range(23):
        services.review_need(loop.tree.admin, raise_need(loop, is_wish=True, description=f"第{i:02d}个微心愿内容",
                                                         phone=f"1390000{i:04d}"), approve=True)
    first = html(Client().get("/n/wishes/"))
    second = html(Client().get("/n/wishes/", {"page": 2}))
    assert first.count('<li class="item">') == 20 and second.count('<li class="item">') == 3
    assert "第1/2页" in first and "下一页" in second.split("<main")[0] + first
    assert html(Client().get("/n/wishes/", {"page": "abc"})).count('<li class="item">') == 20


# --- The service menu ----------------------------------------------------------------------------


@pytest.fixture
def offer(loop):
    return ServiceOffer.objects.create(team=loop.team, category=loop.care, title="助老上门探访",
                                       schedule="每周六上午", description="为独居老人上门探访、陪聊、代购")


def test_menu_lists_active_offers_with_a_booking_button(loop, offer):
    ServiceOffer.objects.create(team=loop.far_team, category=loop.repair, title="已下架的家电维修", active=False)
    page = html(Client().get("/n/menu/"))
    assert "助老上门探访" in page and "每周六上午" in page and loop.team.name in page and "上门探访" in page
    assert f'href="/n/new/?offer={offer.pk}"' in page and "预约" in page
    assert "已下架的家电维修" not in page
    elderly = loop.care.parent
    assert "助老上门探访" in html(Client().get("/n/menu/", {"category": elderly.pk}))
    assert "助老上门探访" not in html(Client().get("/n/menu/", {"category": loop.repair.parent_id}))
    assert "助老上门探访" in html(Client().get("/n/menu/", {"category": "junk"}))
    chips = html(Client().get("/n/menu/")).split('class="chips"')[1].split("</nav>")[0]
    assert "助老助残" in chips and "便民维修" not in chips  # only kinds with something on offer


def test_booking_a_service_raises_a_menu_need_for_the_team(loop, offer):
    c = Client()
    page = html(c.get(NEW, {"offer": offer.pk}))
    assert "您预约的服务" in page and "助老上门探访" in page and loop.team.name in page
    assert 'name="category"' not in page and 'name="is_wish"' not in page and "上门探访" in page
    assert f'action="/n/new/?offer={offer.pk}"' in page
    data = form_data(loop, category=loop.repair.pk, is_wish="on")  # ignored: the offer fixes both
    r = c.post(f"{NEW}?offer={offer.pk}", data, REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 302
    need = Need.objects.get()
    assert need.source == Need.Source.MENU and need.offer == offer and need.requested_team == loop.team
    assert need.category == loop.care and not need.is_wish
    assert "助老上门探访" in html(c.get("/n/submitted/"))
    need = services.review_need(loop.tree.admin, need, approve=True)
    assert need.state == S.DISPATCHED and need.team == loop.team


def test_booking_an_offer_that_is_gone(loop, offer):
    assert "没有找到您要预约的服务" in html(Client().get(NEW, {"offer": "99999"}))
    assert "没有找到您要预约的服务" in html(Client().get(NEW, {"offer": "abc"}))
    c = Client()
    page = html(c.get(NEW, {"offer": offer.pk}))
    assert "您预约的服务" in page
    offer.active = False
    offer.save(update_fields=["active"])
    r = c.post(f"{NEW}?offer={offer.pk}", form_data(loop), REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 200 and "该服务已下架" in html(r) and not Need.objects.exists()
    r = c.get(NEW, {"offer": offer.pk}, follow=True)
    assert "已下架" in html(r) and "您预约的服务" not in html(r)


# --- The whole way round -------------------------------------------------------------------------


def test_the_loop_as_the_resident_sees_it(loop):
    c, _ = submit(loop, phone=PHONE)
    need = Need.objects.get()
    url = f"/n/track/{need.code}/"
    assert re.findall(r'<li class="(\w*)"[^>]*>(点单|派单|接单|评单)</li>', html(c.get(url)))[:2] == [
        ("done", "点单"), ("current", "派单")]
    need = services.review_need(loop.tree.admin, need, approve=True)
    need = services.dispatch_need(loop.tree.admin, need, team=loop.team, note="请本周内上门")
    page = html(c.get(url))
    assert "已派单" in page and f"承接：{loop.team.name}" in page and "请本周内上门" in page
    need = services.accept_need(loop.tree.team_leader, need)
    need = services.complete_need(loop.tree.team_leader, need, report="上门探访1小时", people_served=1)
    page = html(c.get(url))
    assert "待评价" in page and "上门探访1小时" in page and "服务完成" in page
    c.post(f"{url}rate/", {"stars": "5", "comment": "谢谢志愿者"})
    page = html(c.get(url))
    assert "已完成" in page and "★★★★★" in page and "谢谢志愿者" in page
    assert re.findall(r'<li class="(\w*)"[^>]*>(点单|派单|接单|评单)</li>', page) == [
        ("done", "点单"), ("done", "派单"), ("done", "接单"), ("done", "评单")]


def test_pages_are_light_and_served_by_us(loop):
    """Cheap phones on slow networks, and government intranets: small pages, nothing from elsewhere."""
    c, _ = submit(loop)
    code = Need.objects.get().code
    for url in ("/n/", NEW, "/n/submitted/", TRACK, f"/n/track/{code}/", "/n/wishes/", "/n/menu/"):
        r = c.get(url)
        page = html(r)
        assert r.status_code == 200, url
        assert len(r.content) < 40_000, (url, len(r.content))
        assert not re.search(r'(src|href)="(https?:)?//', page), url
