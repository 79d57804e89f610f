"""Service record certificates (志愿服务记录证明): who may issue one, what it certifies, its number,
its seal, and a PDF that reads back in Chinese on a machine with nothing but the project's font."""

import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.utils import timezone

from wenming.core.errors import Forbidden, InvalidInput, RateLimited
from wenming.core.models import AuditEntry
from wenming.ledger import pdf
from wenming.ledger.models import Certificate
from wenming.ledger.queries import certificate_by_number, certificate_lines
from wenming.ledger.services import (
    approve_hours_request,
    certificate_is_intact,
    issue_certificate,
    request_adjustment,
)

from .helpers import recorded, settle, tamper

MARCH = (date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def served(tree):
    """张三: 2 h verified on 5 March, 45 min recorded on 6 March, 3 h verified at the other station on 7 March."""
    settle(tree.admin, tree.zhang, tree.station, 1, day=5, title="敬老院志愿服务")
    recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 45, day=6)
    settle(tree.admin, tree.zhang, tree.other_station, 2, day=7, hours=3, title="文明交通劝导")
    return tree


# --- Who may issue ------------------------------------------------------------------------------


def test_a_volunteer_issues_their_own(served):
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    assert re.fullmatch(rf"WM-{timezone.localdate().year}-\d{{6}}", cert.number)
    assert (cert.verified_minutes, cert.recorded_minutes, cert.services) == (300, 45, 3)
    assert cert.snapshot["issuer"]["handler"] == "本人申请，平台自助出具"
    entry = AuditEntry.objects.get(action="ledger.certificate.issue")
    assert entry.object_id == str(cert.pk) and entry.after["number"] == cert.number


@pytest.mark.parametrize(("who", "allowed"), [
    ("admin", True), ("inst_admin", True), ("far_admin", False), ("team_leader", False),
])
def test_managers_issue_only_in_reach(served, who, allowed):
    user = getattr(served, who)
    if allowed:
        assert issue_certificate(user, served.zhang, *MARCH).snapshot["issuer"]["handler"] == str(user)
    else:
        with pytest.raises(Forbidden):
            issue_certificate(user, served.zhang, *MARCH)
        assert not Certificate.objects.exists()


def test_a_volunteer_cannot_issue_for_another(served):
    with pytest.raises(Forbidden):
        issue_certificate(served.vol_user, served.li, *MARCH)


# --- The period ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "code"), [
    (date(2025, 3, 31), date(2025, 3, 1), "period_invalid"),  # end before start
    (date(1900, 1, 1), date(2025, 3, 31), "period_too_long"),  # a huge period
    (date(1, 1, 1), date(9999, 12, 31), "period_future"),  # ends after today
    (date(2025, 3, 1), "tomorrow", "period_future"),
    (None, date(2025, 3, 31), "period_missing"),
    ("2025-03-01", date(2025, 3, 31), "period_missing"),
    (date(2024, 1, 1), date(2024, 12, 31), "no_records"),
])
def test_bad_periods_are_refused_with_a_message(served, start, end, code):
    if end == "tomorrow":  # worked out when the test runs, in the platform's time zone
        end = timezone.localdate() + timedelta(days=1)
    with pytest.raises(InvalidInput) as exc:
        issue_certificate(served.admin, served.zhang, start, end)
    assert exc.value.code == code and exc.value.message
    assert not Certificate.objects.exists()


def test_a_period_takes_only_its_services(served):
    cert = issue_certificate(served.admin, served.zhang, date(2025, 3, 6), date(2025, 3, 6))
    assert [line["title"] for line in cert.snapshot["lines"]] == ["社区文明劝导"]
    assert (cert.verified_minutes, cert.recorded_minutes) == (0, 45)


def test_a_volunteer_has_a_daily_limit(served, settings):
    from wenming.ledger import services

    for _ in range(services.CERTIFICATE_DAILY_LIMIT):
        issue_certificate(served.vol_user, served.zhang, *MARCH)
    with pytest.raises(RateLimited):
        issue_certificate(served.vol_user, served.zhang, *MARCH)
    issue_certificate(served.admin, served.zhang, *MARCH)  # a manager is not limited


# --- What it certifies ------------------------------------------------------------------------------


def test_lines_fold_corrections_into_their_service(served):
    first = served.zhang.service_records.get(sequence=1)
    approve_hours_request(served.admin2, request_adjustment(served.admin, first, minutes=-30, reason="早退"))
    lines = certificate_lines(served.zhang, *MARCH)
    assert [(x["date"], x["verified"], x["recorded"], x["corrected"]) for x in lines] == [
        ("2025-03-05", 90, 0, True), ("2025-03-06", 0, 45, False), ("2025-03-07", 180, 0, False),
    ]
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    assert (cert.verified_minutes, cert.recorded_minutes, cert.services) == (270, 45, 3)


def test_a_service_corrected_to_nothing_is_left_out(served):
    second = served.zhang.service_records.get(sequence=2)
    approve_hours_request(served.admin2, request_adjustment(served.admin, second, minutes=-45, reason="重复录入"))
    assert [x["date"] for x in certificate_lines(served.zhang, *MARCH)] == ["2025-03-05", "2025-03-07"]


def test_the_issuer_is_the_lowest_organisation_above_every_recorder(served):
    both = issue_certificate(served.admin, served.zhang, *MARCH)
    assert both.node == served.centre  # lines from two institutes
    one = issue_certificate(served.admin, served.zhang, date(2025, 3, 5), date(2025, 3, 6))
    assert one.node == served.station


def test_the_snapshot_keeps_what_was_certified(served):
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    settle(served.admin, served.zhang, served.station, 9, day=20)
    cert = Certificate.objects.get(pk=cert.pk)
    assert cert.services == 3 and len(cert.snapshot["lines"]) == 3
    volunteer = cert.snapshot["volunteer"]
    assert volunteer["name"] == "张三" and volunteer["number"] == served.zhang.number
    assert volunteer["id_number_masked"] == served.zhang.id_number_masked
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", volunteer["id_number_masked"])


def test_numbers_are_unique_and_in_sequence(served):
    a = issue_certificate(served.admin, served.zhang, *MARCH)
    b = issue_certificate(served.admin, served.zhang, *MARCH)
    assert int(b.number[-6:]) == int(a.number[-6:]) + 1


def test_a_certificate_cannot_be_changed(served):
    cert = issue_certificate(served.admin, served.zhang, *MARCH)
    with pytest.raises(PermissionError):
        cert.save()
    with pytest.raises(PermissionError):
        Certificate.objects.filter(pk=cert.pk).update(services=99)


def test_a_certificate_changed_behind_the_applications_back_no_longer_verifies(served):
    cert = issue_certificate(served.admin, served.zhang, *MARCH)
    assert certificate_is_intact(cert)
    snapshot = dict(cert.snapshot, totals={**cert.snapshot["totals"], "total_minutes": 6000})
    import json

    tamper("UPDATE ledger_certificate SET snapshot = %s WHERE id = %s", [json.dumps(snapshot), cert.pk])
    assert not certificate_is_intact(Certificate.objects.get(pk=cert.pk))


@pytest.mark.parametrize("number", [
    "", "WM-", "wm-2026-1", "WM-2026-00000A", "' OR 1=1 --", "WM-2026-000001/../", "x" * 5000, "\x00", "WM-２０２６-000001",
    None, 12,
])
def test_hostile_numbers_find_nothing(db, number):
    assert certificate_by_number(number) is None


# --- The PDF -----------------------------------------------------------------------------------------


def test_hours_text():
    assert [pdf.hours(m) for m in (0, 30, 45, 60, 90, 125, 6000)] == ["0", "0.5", "0.75", "1", "1.5", "2.08", "100"]


def test_a_missing_font_is_a_clear_error(monkeypatch, settings):
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ())
    settings.WENMING_PDF_FONT = "/nonexistent/font.ttf"
    with pytest.raises(pdf.FontMissing) as exc:
        pdf.find_font()
    assert "fonts-wqy-zenhei" in exc.value.message


def _has_font() -> bool:
    try:
        pdf.find_font()
    except pdf.FontMissing:
        return False
    return True


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm") and _has_font()),
    reason="poppler-utils or fonts-wqy-zenhei not installed: scripts/test.sh installs them as root",
)


@needs_poppler
def test_the_pdf_renders_chinese_with_an_embedded_font(served, tmp_path):
    first = served.zhang.service_records.get(sequence=1)
    approve_hours_request(served.admin2, request_adjustment(served.admin, first, minutes=-30, reason="早退"))
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    url = f"https://wm.example.gov.cn/verify/{cert.number}"
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf.render_certificate(cert, url))

    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "TrueType" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded (emb = yes)

    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for expected in ("志愿服务记录证明", "张三", cert.number, served.zhang.number, served.zhang.id_number_masked,
                     "2025年3月1日至2025年3月31日", "敬老院志愿服务", "文明交通劝导", "社区文明劝导",
                     "累计服务时长5.25小时", "核验时长4.5小时", "补录时长0.75小时", "补录", "核验", "含更正",
                     "出具单位：双清区新时代文明实践中心", url):
        assert expected in flat, expected
    full_id = __import__("wenming.core.pii", fromlist=["decrypt"]).decrypt(served.zhang.id_number_enc)
    assert full_id not in flat  # never the full ID number

    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    image = Image.open(png).convert("L")
    dark = sum(1 for value in image.getdata() if value < 128)
    assert dark > image.width * image.height * 0.01  # text, table and QR code: not a blank page


@needs_poppler
def test_a_long_certificate_runs_over_pages(served, tmp_path):
    for i in range(60):
        settle(served.admin, served.zhang, served.station, 100 + i, day=10 + i % 15, start=8 + i % 3, hours=1)
    cert = issue_certificate(served.vol_user, served.zhang, *MARCH)
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf.render_certificate(cert, "http://testserver/verify/" + cert.number))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 2
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout)
    assert "服务名称" in text and "第2页" in text and "累计服务时长65.75小时" in text
