"""The console pages: upload → 预检 → 确认导入, the template, the error report, export, and who may use them."""

import os
import re
import time
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from wenming.core.excel_views import imports_dir, purge_expired
from wenming.core.models import AuditEntry
from wenming.people.models import Volunteer

from .conftest import VOLUNTEER_HEADERS, read_sheet, volunteer_row, xlsx

pytestmark = pytest.mark.django_db

IMPORT = "/data/volunteers/import/"


def upload(data: bytes, name="志愿者.xlsx"):
    return SimpleUploadedFile(name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def volunteers_file(rows) -> bytes:
    return xlsx(VOLUNTEER_HEADERS, rows).getvalue()


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def body(response) -> str:
    return response.content.decode()


def test_import_page(district):
    response = district.client(district.district).get(IMPORT)
    assert response.status_code == 200
    page = body(response)
    assert "导入志愿者" in page and "预检" in page and "身份证号码" in page
    assert 'href="/data/volunteers/template.xlsx"' in page


@pytest.mark.parametrize("who", ["viewer", "volunteer_user"])
def test_roles_that_cannot_manage_get_403(district, who):
    client = district.client(getattr(district, who))
    for url in (IMPORT, "/data/volunteers/template.xlsx"):
        response = client.get(url)
        assert response.status_code == 403 and "无权" in body(response)
    response = client.post(IMPORT, {"action": "preview", "file": upload(volunteers_file([volunteer_row("甲")]))})
    assert response.status_code == 403
    assert Volunteer.objects.count() == 0


def test_anonymous_is_sent_to_log_in(district):
    from django.test import Client

    response = Client().get(IMPORT)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_dataset_is_404(district):
    assert district.client(district.district).get("/data/nothing/import/").status_code == 404


def test_preview_then_confirm(district):
    client = district.client(district.district)
    data = volunteers_file([volunteer_row("甲"), volunteer_row("乙"), volunteer_row("丙", tel="123")])
    response = client.post(IMPORT, {"action": "preview", "file": upload(data)})
    assert response.status_code == 200
    page = body(response)
    assert "预检结果" in page and "确认导入" in page and "手机号码须为11位" in page
    assert Volunteer.objects.count() == 0  # a dry run
    token = token_of(response)
    base = f"{district.district.pk}-{token}"
    assert sorted(p.name for p in imports_dir().iterdir()) == [f"{base}.errors.xlsx", f"{base}.json", f"{base}.xlsx"]

    errors = client.get(f"/data/volunteers/errors/{token}.xlsx")
    assert errors.status_code == 200
    rows = read_sheet(b"".join(errors.streaming_content))
    assert rows[1][:4] == (4, "C", "手机号码", "未导入")

    response = client.post(IMPORT, {"action": "confirm", "token": token})
    assert response.status_code == 200
    assert "导入完成" in body(response)
    assert sorted(Volunteer.objects.values_list("name", flat=True)) == ["乙", "甲"]
    assert not (imports_dir() / f"{district.district.pk}-{token}.xlsx").exists()  # the upload is gone
    assert AuditEntry.objects.filter(action="volunteer.import", note__contains="志愿者.xlsx").exists()

    # Confirming twice (a double click, a refresh) imports nothing more.
    response = client.post(IMPORT, {"action": "confirm", "token": token})
    assert "已过期或已经导入" in body(response)
    assert Volunteer.objects.count() == 2


def test_another_account_cannot_confirm_or_download_someone_elses_upload(district):
    data = volunteers_file([volunteer_row("甲", tel="1")] + [volunteer_row("乙")])
    response = district.client(district.district).post(IMPORT, {"action": "preview", "file": upload(data)})
    token = token_of(response)
    other = district.client(district.institute_admin)
    response = other.post(IMPORT, {"action": "confirm", "token": token})
    assert "已过期" in body(response) and Volunteer.objects.count() == 0
    assert other.get(f"/data/volunteers/errors/{token}.xlsx").status_code == 404
    assert other.get("/data/volunteers/errors/..%2F..%2Fsecret.xlsx").status_code == 404


def test_bad_files_get_a_message_not_a_500(district):
    client = district.client(district.district)
    for data in (b"\x89PNG\r\n\x1a\n" + b"0" * 50, "姓名,手机\n".encode(), b"\xd0\xcf\x11\xe0" + b"0" * 600, b""):
        response = client.post(IMPORT, {"action": "preview", "file": upload(data)})
        assert response.status_code == 200
        assert 'class="msg msg-error"' in body(response)
    response = client.post(IMPORT, {"action": "preview", "file": upload(xlsx(["姓名"], [["甲"]]).getvalue())})
    assert "缺少必填列" in body(response)
    assert list(imports_dir().iterdir()) == []  # nothing kept of a refused file


def test_no_file_chosen(district):
    response = district.client(district.district).post(IMPORT, {"action": "preview"})
    assert "请选择要上传的 .xlsx 文件" in body(response)


def test_file_too_large_is_refused_before_reading(district, settings):
    settings.WENMING_IMPORT_MAX_BYTES = 100
    data = volunteers_file([volunteer_row("甲")])
    response = district.client(district.district).post(IMPORT, {"action": "preview", "file": upload(data)})
    assert "文件过大" in body(response)


def test_nothing_to_import_offers_no_confirmation(district):
    response = district.client(district.district).post(
        IMPORT, {"action": "preview", "file": upload(volunteers_file([volunteer_row("甲", tel="1")]))})
    page = body(response)
    assert "没有可导入的行" in page and 'name="token"' not in page


def test_many_errors_are_listed_in_part_and_downloadable_in_full(district):
    rows = [volunteer_row(f"人{i}", tel="1") for i in range(250)]
    response = district.client(district.district).post(IMPORT, {"action": "preview", "file": upload(volunteers_file(rows))})
    page = body(response)
    assert "共 250 条，页面仅显示前 200 条" in page
    assert page.count("<td class=\"num\"") == 200


def test_expired_uploads_are_purged(district):
    old = imports_dir() / "1-abc.xlsx"
    old.write_bytes(b"x")
    fresh = imports_dir() / "1-def.xlsx"
    fresh.write_bytes(b"x")
    past = time.time() - 2 * 3600
    os.utime(old, (past, past))
    assert purge_expired() == 1
    assert not old.exists() and fresh.exists()


def test_template_download(district):
    response = district.client(district.station_admin).get("/data/volunteers/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["志愿者", "填写说明"]
    headers = [c.value for c in wb["志愿者"][1]]
    assert headers[:4] == ["姓名*", "身份证号码*", "手机号码*", "所属实践站区划代码*"]
    assert "志愿者编号" not in headers  # export-only columns are not in the template
    assert wb["志愿者"]["B2"].number_format == "@"
    assert wb["志愿者"].max_row >= 2


def test_the_template_filled_in_imports(district):
    response = district.client(district.district).get("/data/volunteers/template.xlsx")
    wb = load_workbook(BytesIO(b"".join(response.streaming_content)))
    ws = wb["志愿者"]
    for col, value in enumerate(volunteer_row("模板人"), start=1):
        ws.cell(row=2, column=col, value=value or None)
    out = BytesIO()
    wb.save(out)
    response = district.client(district.district).post(IMPORT, {"action": "preview", "file": upload(out.getvalue())})
    assert response.status_code == 200 and "可导入" in body(response)
    assert re.search(r"<b>1</b>可导入", body(response))


@pytest.mark.parametrize("name", ["volunteers", "teams", "nodes", "sites"])
def test_every_ledger_has_its_pages(district, name):
    client = district.client(district.district)
    assert client.get(f"/data/{name}/import/").status_code == 200
    assert client.get(f"/data/{name}/template.xlsx").status_code == 200
    response = client.get(f"/data/{name}/export.xlsx")
    assert response.status_code == 200
    load_workbook(BytesIO(b"".join(response.streaming_content)))


def test_export_masked_by_default_full_on_request(district):
    v = district.volunteer("甲")
    client = district.client(district.district)
    response = client.get("/data/volunteers/export.xlsx")
    assert response.status_code == 200
    rows = read_sheet(b"".join(response.streaming_content))
    assert rows[1][2] == v.id_number_masked
    response = client.get("/data/volunteers/export.xlsx?full=1")
    rows = read_sheet(b"".join(response.streaming_content))
    assert rows[1][2] == v.plain_id
    notes = list(AuditEntry.objects.filter(action="volunteer.export").order_by("id").values_list("note", flat=True))
    assert notes == ["Excel导出志愿者1条，脱敏", "Excel导出志愿者1条，完整号码"]


def test_export_permissions_and_filters(district):
    district.volunteer("本站")
    district.volunteer("外站", station=district.station2)
    viewer = district.client(district.viewer)
    assert viewer.get("/data/volunteers/export.xlsx?full=1").status_code == 403
    assert viewer.get("/data/volunteers/export.xlsx").status_code == 200
    assert district.client(district.volunteer_user).get("/data/volunteers/export.xlsx").status_code == 403
    station = district.client(district.station_admin)
    assert station.get("/data/volunteers/export.xlsx?station=430502002001").status_code == 404
    rows = read_sheet(b"".join(station.get("/data/volunteers/export.xlsx").streaming_content))
    assert [r[1] for r in rows[1:]] == ["本站"]
    rows = read_sheet(b"".join(district.client(district.district)
                               .get("/data/volunteers/export.xlsx?node=430502002000").streaming_content))
    assert [r[1] for r in rows[1:]] == ["外站"]


def test_index_page(district):
    page = body(district.client(district.district).get("/data/"))
    assert "志愿者" in page and 'name="full"' in page and "/data/nodes/import/" in page
    page = body(district.client(district.viewer).get("/data/"))
    assert 'name="full"' not in page and "/data/volunteers/import/" not in page
    assert district.client(district.volunteer_user).get("/data/").status_code == 403


# --- Large files: a background job, its progress page, its report --------------------------------


def join(token):
    from wenming.core.excel_views import _threads

    thread = _threads.get(token)
    if thread is not None:
        thread.join(60)


@pytest.mark.django_db(transaction=True)
def test_large_files_are_checked_and_imported_in_the_background(district, settings):
    settings.WENMING_IMPORT_INLINE_ROWS = 2
    client = district.client(district.district)
    data = volunteers_file([volunteer_row("甲"), volunteer_row("乙"), volunteer_row("丙", tel="1")])
    response = client.post(IMPORT, {"action": "preview", "file": upload(data)})
    assert response.status_code == 302 and "/data/volunteers/jobs/" in response["Location"]
    job = response["Location"]
    token = job.rstrip("/").split("/")[-1]
    join(token)
    page = body(client.get(job))
    assert "预检结果" in page and "确认导入" in page and "手机号码须为11位" in page
    assert Volunteer.objects.count() == 0

    response = client.post(IMPORT, {"action": "confirm", "token": token})
    assert response.status_code == 302 and response["Location"] == job
    join(token)
    page = body(client.get(job))
    assert "导入完成" in page
    assert sorted(Volunteer.objects.values_list("name", flat=True)) == ["乙", "甲"]
    assert not (imports_dir() / f"{district.district.pk}-{token}.xlsx").exists()
    # A second click on 确认导入 shows the same job, it does not import again.
    response = client.post(IMPORT, {"action": "confirm", "token": token})
    assert response.status_code == 302 and response["Location"] == job
    assert Volunteer.objects.count() == 2
    # Someone else's job is not theirs to see.
    assert district.client(district.institute_admin).get(job).status_code == 404


def test_a_running_job_shows_its_progress_and_a_stale_one_says_so(district):
    import json

    from wenming.core.excel_views import _paths

    token = "t" * 24
    status = {"state": "running", "dry_run": False, "done": 500, "total": 2000, "filename": "大名单.xlsx",
              "at": time.time()}
    _paths(district.district.pk, token)["status"].write_text(json.dumps(status))
    client = district.client(district.district)
    page = body(client.get(f"/data/volunteers/jobs/{token}/"))
    assert 'http-equiv="refresh"' in page and "已处理 500 行" in page and "25%" in page
    status["at"] = time.time() - 3600
    _paths(district.district.pk, token)["status"].write_text(json.dumps(status))
    page = body(client.get(f"/data/volunteers/jobs/{token}/"))
    assert "导入任务已中断" in page and 'class="msg msg-error"' in page
    assert client.get("/data/volunteers/jobs/nonexistent-token-0000000/").status_code == 404
