"""The ledger's pages: a volunteer's own (/me/), the managers' console (/ledger/), and the public
verification of a certificate (/verify/<number>). Bad input gets a page with a message, never a 500."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from wenming.ledger.models import Certificate, HoursRequest, ServiceRecord
from wenming.ledger.services import SAME_APPROVER_MESSAGE, issue_certificate, request_recorded_hours

from .helpers import at, recorded, settle

MARCH = (date(2025, 3, 1), date(2025, 3, 31))


def _has_font() -> bool:
    from wenming.ledger import pdf

    try:
        pdf.find_font()
    except pdf.FontMissing:
        return False
    return True


# Issuing from a page checks first that the PDF can be drawn.
needs_font = pytest.mark.skipif(not _has_font(), reason="fonts-wqy-zenhei not installed: scripts/test.sh installs it as root")


def client_for(user=None) -> Client:
    client = Client(raise_request_exception=True)
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def served(tree):
    settle(tree.admin, tree.zhang, tree.station, 1, day=5, title="敬老院志愿服务")
    recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 45, day=6)
    settle(tree.admin, tree.wang, tree.other_station, 2, day=7, title="东站文明劝导")
    return tree


# --- A volunteer's own pages ----------------------------------------------------------------------


def test_my_hours_shows_verified_and_recorded_apart(served):
    page = text(client_for(served.vol_user).get(reverse("ledger:me_hours")))
    assert "2.75" in page  # total hours
    assert re.search(r"核验时长</small><b>2</b>", page) and re.search(r"补录时长</small><b>0.75</b>", page)
    assert "距1星还差 97.25 小时" in page
    assert "27" in page  # points: 20 + 7


def test_my_records_mark_recorded_hours_and_corrections(served):
    from wenming.ledger.services import approve_hours_request, request_adjustment

    first = served.zhang.service_records.get(sequence=1)
    approve_hours_request(served.admin2, request_adjustment(served.admin, first, minutes=-30, reason="提前离开"))
    page = text(client_for(served.vol_user).get(reverse("ledger:me_records")))
    assert page.count('class="badge badge-yellow">补录') == 2  # the legend and the recorded record
    assert page.count('class="badge badge-red">更正') == 2  # the legend and the correction
    assert "更正原因：提前离开" in page and "补录原因：纸质签到表补录" in page
    assert "东站文明劝导" not in page  # someone else's


def test_my_records_are_paginated(served):
    for i in range(25):
        settle(served.admin, served.zhang, served.station, 100 + i, day=10, start=8, hours=1)
    client = client_for(served.vol_user)
    assert "第 1 / 2 页" in text(client.get(reverse("ledger:me_records")))
    for page in ("2", "999999999999999999999", "-1", "abc", "\u202e"):
        assert client.get(reverse("ledger:me_records"), {"page": page}).status_code == 200


def test_my_points_and_stars(served):
    client = client_for(served.vol_user)
    points = text(client.get(reverse("ledger:me_points")))
    assert "服务时长积分：敬老院志愿服务" in points and "+20" in points and "+7" in points
    stars = text(client.get(reverse("ledger:me_stars")))
    assert "尚未评星" in stars and "1星：累计 100 小时" in stars and "5星：累计 1500 小时" in stars


def test_me_pages_need_a_volunteer_account(served):
    for user in (served.admin, served.far_admin):
        response = client_for(user).get(reverse("ledger:me_hours"))
        assert response.status_code == 404 and "未关联志愿者" in text(response)
    anonymous = client_for().get(reverse("ledger:me_hours"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@needs_font
def test_a_volunteer_requests_and_downloads_a_certificate(served):
    client = client_for(served.vol_user)
    response = client.post(reverse("ledger:me_certificates"), {"start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 302
    cert = Certificate.objects.get()
    page = text(client.get(reverse("ledger:me_certificates")))
    assert cert.number in page and "证明已出具" in page
    pdf = client.get(reverse("ledger:me_certificate_pdf", args=[cert.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf["Content-Disposition"]


@needs_font
@pytest.mark.parametrize(("start", "end", "message"), [
    ("2025-03-31", "2025-03-01", "截止日期不能早于起始日期。"),
    ("1900-01-01", "2025-03-31", "证明期间不能超过50年。"),
    ("0001-01-01", "9999-12-31", "截止日期不能晚于今天。"),
    ("2024-01-01", "2024-12-31", "该期间没有服务记录，无法出具证明。"),
    ("2025-02-30", "2025-03-31", "有效的日期"),
    ("", "", "这个字段是必填项。"),
    ("9" * 5000, "x", "有效的日期"),
])
def test_bad_periods_are_shown_on_the_form(served, start, end, message):
    response = client_for(served.vol_user).post(reverse("ledger:me_certificates"), {"start": start, "end": end})
    assert response.status_code == 200 and message in text(response)
    assert not Certificate.objects.exists()


def test_another_volunteers_certificate_is_not_found(served):
    li_user = __import__("tests.ledger.helpers", fromlist=["make_user"]).make_user("li_vol", "volunteer")
    served.li.user = li_user
    served.li.save(update_fields=["user"])
    theirs = issue_certificate(served.admin, served.zhang, *MARCH)
    client = client_for(li_user)
    for number in (theirs.number, "WM-2026-999999", "nonsense", "../../etc/passwd"):
        response = client.get(f"/me/certificates/{number}.pdf")
        assert response.status_code == 404, number


# --- Console --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "sees", "hides"), [
    ("admin", ["敬老院志愿服务", "东站文明劝导"], []),
    ("inst_admin", ["敬老院志愿服务"], ["东站文明劝导"]),
    ("far_admin", ["东站文明劝导"], ["敬老院志愿服务"]),
])
def test_the_records_list_is_scoped(served, who, sees, hides):
    page = text(client_for(getattr(served, who)).get(reverse("ledger:records")))
    assert all(t in page for t in sees) and not any(t in page for t in hides)


def test_the_records_list_filters(served):
    client = client_for(served.admin)
    page = text(client.get(reverse("ledger:records"), {"kind": "recorded"}))
    assert "社区文明劝导" in page and "敬老院志愿服务" not in page
    page = text(client.get(reverse("ledger:records"), {"q": served.wang.number}))
    assert "东站文明劝导" in page and "敬老院志愿服务" not in page
    for params in ({"kind": "x" * 1000}, {"q": "%_'\""}, {"page": "0"}, {"q": "张" * 500}):
        assert client.get(reverse("ledger:records"), params).status_code == 200


def test_a_volunteers_ledger_is_reachable_from_their_page(served):
    client = client_for(served.inst_admin)
    detail = text(client.get(reverse("people:volunteer", args=[served.zhang.pk])))
    assert reverse("ledger:volunteer", args=[served.zhang.pk]) in detail
    page = text(client.get(reverse("ledger:volunteer", args=[served.zhang.pk])))
    assert "张三的服务台账" in page and "敬老院志愿服务" in page and "2.75" in page


@pytest.mark.parametrize("url", [
    "/ledger/volunteers/{wang}/", "/ledger/volunteers/999999/", "/ledger/volunteers/99999999999999999999999/",
    "/ledger/records/999999/", "/ledger/records/{wang_record}/", "/ledger/records/99999999999999999999999/",
    "/ledger/requests/999999/", "/ledger/requests/99999999999999999999999/",
    "/ledger/volunteers/{wang}/certificates/WM-2026-000001.pdf",
])
def test_out_of_reach_or_unknown_ids_are_not_found(served, url):
    record = ServiceRecord.objects.get(volunteer=served.wang)
    url = url.format(wang=served.wang.pk, wang_record=record.pk)
    assert client_for(served.inst_admin).get(url).status_code == 404


def test_a_station_admin_cannot_issue_outside_reach(served):
    client = client_for(served.far_admin)
    response = client.post(reverse("ledger:volunteer", args=[served.zhang.pk]), {"start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 404
    assert not Certificate.objects.exists()


@needs_font
def test_a_manager_issues_and_downloads_from_the_ledger_page(served):
    client = client_for(served.inst_admin)
    url = reverse("ledger:volunteer", args=[served.zhang.pk])
    assert client.post(url, {"start": "2025-03-01", "end": "2025-03-31"}).status_code == 302
    cert = Certificate.objects.get()
    assert cert.issued_by == served.inst_admin
    page = text(client.get(url))
    assert cert.number in page
    pdf = client.get(reverse("ledger:volunteer_certificate_pdf", args=[served.zhang.pk, cert.number]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Another volunteer's certificate through this volunteer's address: not found.
    other = issue_certificate(served.admin, served.wang, *MARCH)
    assert client.get(reverse("ledger:volunteer_certificate_pdf", args=[served.zhang.pk, other.number])).status_code == 404
    # A read-only role sees the ledger, but neither issues nor downloads.
    leader = client_for(served.team_leader)
    assert leader.get(url).status_code == 200
    assert leader.post(url, {"start": "2025-03-01", "end": "2025-03-31"}).status_code == 403
    assert leader.get(reverse("ledger:volunteer_certificate_pdf", args=[served.zhang.pk, cert.number])).status_code == 404


def test_a_missing_font_is_a_clear_page(served, monkeypatch, settings):
    from wenming.ledger import pdf

    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ())
    settings.WENMING_PDF_FONT = ""
    monkeypatch.delenv("WENMING_PDF_FONT", raising=False)
    response = client_for(served.vol_user).post(reverse("ledger:me_certificates"), {"start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 200 and "fonts-wqy-zenhei" in text(response)
    assert not Certificate.objects.exists()


def _recorded_form(tree, **over):
    data = {
        "volunteer_number": tree.zhang.number, "node": tree.station.pk, "title": "重阳节敬老活动",
        "window_start": "2025-03-08T09:00", "window_end": "2025-03-08T11:00", "minutes": "90",
        "reason": "忘记签退，有纸质签到表为证",
    }
    data.update(over)
    return data


def test_recorded_hours_need_a_second_approver(served):
    first = client_for(served.admin)
    response = first.post(reverse("ledger:request_new"), _recorded_form(served))
    assert response.status_code == 302
    req = HoursRequest.objects.get(title="重阳节敬老活动")
    # The one who entered it cannot approve it: the service's rule, shown in Chinese.
    page = first.post(reverse("ledger:request_approve", args=[req.pk]), follow=True)
    assert SAME_APPROVER_MESSAGE in text(page)
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.PENDING
    # Another manager in reach approves.
    page = client_for(served.inst_admin).post(reverse("ledger:request_approve", args=[req.pk]), {"note": "核对无误"}, follow=True)
    assert "已审批通过" in text(page)
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.APPROVED and req.record.kind == ServiceRecord.Kind.RECORDED
    # Twice: a clear message, no second record.
    page = client_for(served.admin2).post(reverse("ledger:request_approve", args=[req.pk]), follow=True)
    assert "不能重复审批" in text(page)
    assert ServiceRecord.objects.filter(title="重阳节敬老活动").count() == 1


def test_a_manager_out_of_reach_cannot_see_or_decide(served):
    req = request_recorded_hours(
        served.admin, volunteer=served.zhang, node=served.station, title="补录", window_start=at(8, 9),
        window_end=at(8, 11), minutes=60, reason="纸质记录",
    )
    far = client_for(served.far_admin)
    assert far.get(reverse("ledger:request", args=[req.pk])).status_code == 404
    assert far.post(reverse("ledger:request_approve", args=[req.pk])).status_code == 404
    assert far.post(reverse("ledger:request_reject", args=[req.pk]), {"reason": "x"}).status_code == 404
    page = text(far.get(reverse("ledger:requests")))
    assert "没有待审批的申请" in page and reverse("ledger:request", args=[req.pk]) not in page


def test_reject_needs_a_reason(served):
    req = request_recorded_hours(
        served.admin, volunteer=served.zhang, node=served.station, title="补录", window_start=at(8, 9),
        window_end=at(8, 11), minutes=60, reason="纸质记录",
    )
    client = client_for(served.admin2)
    page = client.post(reverse("ledger:request_reject", args=[req.pk]), {"reason": ""}, follow=True)
    assert "请填写驳回理由" in text(page)
    page = client.post(reverse("ledger:request_reject", args=[req.pk]), {"reason": "没有签到表"}, follow=True)
    assert "已驳回该申请" in text(page)
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.REJECTED and req.decision_note == "没有签到表"


@pytest.mark.parametrize(("over", "field_message"), [
    ({"minutes": "150"}, "不能超过活动时长"),
    ({"minutes": "0"}, "确保该值大于或等于1"),
    ({"minutes": "abc"}, "输入整数"),
    ({"minutes": "9" * 400}, "确保该值小于或等于"),
    ({"window_end": "2025-03-08T08:00"}, "活动结束时间须晚于开始时间"),
    ({"window_end": "2030-03-08T08:00"}, "不能超过一年"),
    ({"window_start": "not a date"}, "有效的日期/时间"),
    ({"reason": ""}, "这个字段是必填项"),
    ({"volunteer_number": "WANG"}, "找不到该编号的志愿者"),
    ({"volunteer_number": "0" * 5000}, "不超过 20 字符"),
    ({"node": "999999999999999999999999"}, "选择一个有效的选项"),
    ({"node": "abc"}, "选择一个有效的选项"),
])
def test_the_recorded_hours_form_explains_what_is_wrong(served, over, field_message):
    if over.get("volunteer_number") == "WANG":
        over = {"volunteer_number": served.wang.number}  # out of the institute admin's reach
    response = client_for(served.inst_admin).post(reverse("ledger:request_new"), _recorded_form(served, **over))
    assert response.status_code == 200
    assert field_message in text(response), text(response)[:3000]
    assert not HoursRequest.objects.filter(title="重阳节敬老活动").exists()


def test_a_node_out_of_reach_is_not_offered(served):
    response = client_for(served.inst_admin).post(
        reverse("ledger:request_new"), _recorded_form(served, node=served.other_station.pk)
    )
    assert "选择一个有效的选项" in text(response)
    assert not HoursRequest.objects.filter(title="重阳节敬老活动").exists()


def test_read_only_roles_cannot_enter_hours(served):
    for user in (served.team_leader, served.vol_user):
        assert client_for(user).get(reverse("ledger:request_new")).status_code == 403


def test_a_correction_from_the_record_page(served):
    record = served.zhang.service_records.get(sequence=1)
    client = client_for(served.inst_admin)
    url = reverse("ledger:record", args=[record.pk])
    page = text(client.post(url, {"minutes": "-500", "reason": "签退时间有误"}))
    assert "将小于0" in page
    page = text(client.post(url, {"minutes": "0", "reason": "x"}))
    assert "更正时长不能为0" in page
    response = client.post(url, {"minutes": "-30", "reason": "签退时间有误"})
    assert response.status_code == 302
    req = HoursRequest.objects.get(kind=HoursRequest.Kind.ADJUSTMENT)
    assert req.minutes == -30 and req.adjustment_of == record
    # A read-only role may look but not correct.
    leader = client_for(served.team_leader)
    assert leader.get(url).status_code == 200
    assert leader.post(url, {"minutes": "-30", "reason": "x"}).status_code == 403


def test_pages_load_for_every_role(served):
    req = request_recorded_hours(
        served.admin, volunteer=served.zhang, node=served.station, title="补录", window_start=at(8, 9),
        window_end=at(8, 11), minutes=60, reason="纸质记录",
    )
    record = served.zhang.service_records.first()
    for who in ("admin", "admin2", "inst_admin", "team_leader"):
        client = client_for(getattr(served, who))
        for url in (reverse("ledger:records"), reverse("ledger:requests"), reverse("ledger:requests") + "?status=all",
                    reverse("ledger:requests") + "?status=<script>", reverse("ledger:request", args=[req.pk]),
                    reverse("ledger:record", args=[record.pk]), reverse("ledger:volunteer", args=[served.zhang.pk]),
                    reverse("core:home")):
            assert client.get(url).status_code == 200, (who, url)
    assert client_for(served.admin).get(reverse("ledger:request_new") + f"?volunteer={served.zhang.pk}").status_code == 200
    assert client_for(served.admin).get(reverse("ledger:request_new") + "?volunteer=abc").status_code == 200
    assert client_for(served.inst_admin).get(reverse("ledger:request_new") + f"?volunteer={served.wang.pk}").status_code == 404


def test_a_volunteer_on_the_console_list_goes_to_their_own(served):
    response = client_for(served.vol_user).get(reverse("ledger:records"))
    assert response.status_code == 302 and response["Location"] == reverse("ledger:me_records")


# --- Public verification ----------------------------------------------------------------------------------


def test_verify_a_genuine_certificate_without_logging_in(served):
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    for url in (f"/verify/{cert.number}", f"/verify/{cert.number}/", f"/verify/?number={cert.number.lower()}"):
        response = client_for().get(url)
        page = text(response)
        assert response.status_code == 200, url
        assert "证明真实有效" in page and cert.number in page
        assert "张*" in page and "张三" not in page  # masked name
        assert served.zhang.id_number_masked not in page  # the public sees only the last four digits
        assert served.zhang.id_number_masked[-4:] in page
        assert "敬老院志愿服务" in page and "2.75 小时" in page


def test_the_qr_code_points_at_the_verify_page(served, settings):
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    from wenming.ledger.views import verify_url

    request = __import__("django.test", fromlist=["RequestFactory"]).RequestFactory().get("/")
    assert verify_url(request, cert.number) == f"http://testserver/verify/{cert.number}"
    settings.WENMING_PUBLIC_URL = "https://wm.example.gov.cn/"
    assert verify_url(request, cert.number) == f"https://wm.example.gov.cn/verify/{cert.number}"


@pytest.mark.parametrize("number", [
    "WM-2026-999999", "WM-2026-1", "garbage", "' OR '1'='1", "<script>alert(1)</script>", "x" * 3000,
    "%00", "WM-2026-000001%2F..", "中文编号", "%F0%9F%98%80", "WM-9999-999999999",
])
def test_verify_an_unknown_or_malformed_number(served, number):
    issue_certificate(served.vol_user, served.zhang, *MARCH)
    client = client_for()
    for url in (f"/verify/{number}", f"/verify/?number={number}"):
        response = client.get(url)
        assert response.status_code in (400, 404), (url, response.status_code)
        page = text(response)
        assert "<script>alert(1)</script>" not in page
        if response.status_code == 404 and "number=" in url:
            assert "查无此证明" in page


def test_the_verify_page_without_a_number_is_a_form(db):
    response = client_for().get("/verify/")
    assert response.status_code == 200 and 'name="number"' in response.content.decode()


def test_a_tampered_certificate_is_reported(served):
    import json

    from .helpers import tamper

    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    snapshot = dict(cert.snapshot, totals={**cert.snapshot["totals"], "total_minutes": 60000})
    tamper("UPDATE ledger_certificate SET snapshot = %s WHERE id = %s", [json.dumps(snapshot), cert.pk])
    page = text(client_for().get(f"/verify/{cert.number}"))
    assert "证明数据校验未通过" in page and "证明真实有效" not in page


def test_pages_do_not_query_per_row(served):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager, volunteer = client_for(served.inst_admin), client_for(served.vol_user)
    urls = [(manager, reverse("ledger:records")), (manager, reverse("ledger:volunteer", args=[served.zhang.pk])),
            (manager, reverse("ledger:requests") + "?status=all"), (volunteer, reverse("ledger:me_hours")),
            (volunteer, reverse("ledger:me_records")), (volunteer, reverse("ledger:me_points"))]

    def counts():
        result = []
        for client, url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    before = counts()
    for i in range(10):
        recorded(served.admin if i % 2 else served.admin2, served.inst_admin, served.zhang, served.station, 30,
                 day=10 + i)
        settle(served.inst_admin, served.zhang, served.station, 200 + i, day=10 + i, start=18, hours=1)
    assert counts() == before
