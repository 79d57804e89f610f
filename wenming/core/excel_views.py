"""Console pages for Excel import and export of the ledgers (/data/…).

Import is two steps: upload → dry run (预检) shows the report; 确认导入 re-runs the same file
for real. Between the two the file waits under VAR_DIR/imports, named by the user's id and a
random token (another account cannot use it), and is removed after the import or after an hour.
"""

import json
import re
import secrets
import tempfile
import time
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import excel
from .errors import DomainError, Forbidden, NotFound
from .scoping import can_reveal

UPLOAD_TTL = 3600  # seconds an uploaded file waits for its confirmation
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
SHOWN_ROWS = 200  # errors listed on the page; the downloadable report has them all


def _error_page(request, status: int, message: str, title: str | None = None):
    title = title or (_("无权访问") if status == 403 else _("页面不存在"))
    return render(request, "core/error.html", {"title": title, "message": message}, status=status)


def _dataset(name: str):
    try:
        return excel.get_dataset(name)
    except NotFound:
        return None


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _paths(user, token: str) -> dict[str, Path]:
    base = imports_dir() / f"{user.pk}-{token}"
    return {"upload": base.with_suffix(".xlsx"), "meta": base.with_suffix(".json"),
            "report": base.with_name(base.name + ".errors.xlsx")}


def purge_expired(now: float | None = None) -> int:
    """Remove uploads and reports older than an hour; returns how many files went."""
    now = now or time.time()
    removed = 0
    for path in imports_dir().iterdir():
        try:
            if now - path.stat().st_mtime > UPLOAD_TTL:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _discard(paths: dict[str, Path], *keys: str) -> None:
    for key in keys:
        paths[key].unlink(missing_ok=True)


def _import_page(request, dataset, error: str = "", status: int = 200):
    context = {"dataset": dataset, "error": error, "max_rows": excel.max_rows(),
               "max_mb": excel.max_bytes() // 1048576}
    return render(request, "core/import.html", context, status=status)


def _report_page(request, dataset, report, token: str, filename: str):
    paths = _paths(request.user, token)
    has_file = bool(report.errors or report.skips)
    if has_file:
        excel.write_error_report(paths["report"], report)
    context = {"dataset": dataset, "report": report, "token": token, "filename": filename,
               "errors": report.errors[:SHOWN_ROWS], "skips": report.skips[:SHOWN_ROWS], "shown": SHOWN_ROWS,
               "has_file": has_file}
    return render(request, "core/import_report.html", context)


@login_required
def index(request):
    user = request.user
    rows = [{"dataset": ds, "import": excel.can_import(user), "export": excel.can_export(user),
             "full": ds.reveals and can_reveal(user)} for ds in excel.datasets()]
    if not any(r["import"] or r["export"] for r in rows):
        return _error_page(request, 403, _("您的角色无权导入或导出数据。"))
    return render(request, "core/data_index.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request, dataset):
    ds = _dataset(dataset)
    if ds is None:
        return _error_page(request, 404, _("没有这类台账。"))
    if not excel.can_import(request.user):
        return _error_page(request, 403, _("您的角色无权导入数据。"))
    purge_expired()
    if request.method == "GET":
        return _import_page(request, ds)
    if request.POST.get("action") == "confirm":
        return _confirm(request, ds)
    return _preview(request, ds)


def _preview(request, ds):
    upload = request.FILES.get("file")
    if upload is None:
        return _import_page(request, ds, _("请选择要上传的 .xlsx 文件。"))
    if upload.size > excel.max_bytes():
        return _import_page(request, ds, _("文件过大，单个文件不能超过%(mb)dMB，请拆分后导入。")
                            % {"mb": excel.max_bytes() // 1048576})
    token = secrets.token_urlsafe(18)
    paths = _paths(request.user, token)
    with paths["upload"].open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    filename = Path(upload.name or "").name[:100]
    paths["meta"].write_text(json.dumps({"dataset": ds.name, "filename": filename, "at": time.time()}))
    try:
        report = excel.run_import(ds, request.user, paths["upload"], dry_run=True, filename=filename)
    except DomainError as exc:
        _discard(paths, "upload", "meta")
        return _import_page(request, ds, exc.message)
    if not report.imported:
        _discard(paths, "upload", "meta")  # nothing to confirm
    return _report_page(request, ds, report, token, filename)


def _confirm(request, ds):
    token = request.POST.get("token", "")
    if not TOKEN_RE.match(token):
        return _import_page(request, ds, _("预检记录无效，请重新上传文件。"))
    paths = _paths(request.user, token)
    try:
        meta = json.loads(paths["meta"].read_text())
    except (OSError, ValueError):
        meta = None
    if not meta or meta.get("dataset") != ds.name or not paths["upload"].exists() \
            or time.time() - meta.get("at", 0) > UPLOAD_TTL:
        _discard(paths, "upload", "meta")
        return _import_page(request, ds, _("预检后的文件已过期或已经导入，请重新上传文件。"))
    try:
        report = excel.run_import(ds, request.user, paths["upload"], dry_run=False, filename=meta["filename"])
    except DomainError as exc:
        return _import_page(request, ds, exc.message)
    finally:
        _discard(paths, "upload", "meta")
    return _report_page(request, ds, report, token, meta["filename"])


@login_required
def template_view(request, dataset):
    ds = _dataset(dataset)
    if ds is None:
        return _error_page(request, 404, _("没有这类台账。"))
    if not excel.can_import(request.user):
        return _error_page(request, 403, _("您的角色无权导入数据。"))
    return FileResponse(BytesIO(excel.template_workbook(ds)), as_attachment=True,
                        filename=f"{ds.title}导入模板.xlsx", content_type=excel.XLSX_CONTENT_TYPE)


@login_required
def export_view(request, dataset):
    ds = _dataset(dataset)
    if ds is None:
        return _error_page(request, 404, _("没有这类台账。"))
    full = request.GET.get("full", "") in {"1", "true", "yes"}
    out = tempfile.TemporaryFile(suffix=".xlsx")  # gone when the response closes it
    try:
        within = excel.node_within(request.user, request.GET.get("node") or request.GET.get("station"))
        excel.export_workbook(ds, request.user, out, full=full, within=within)
    except Forbidden as exc:
        out.close()
        return _error_page(request, 403, exc.message)
    except NotFound as exc:
        out.close()
        return _error_page(request, 404, exc.message)
    out.seek(0)
    suffix = "（完整号码）" if full and ds.reveals else ""
    name = f"{ds.title}{suffix}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(out, as_attachment=True, filename=name, content_type=excel.XLSX_CONTENT_TYPE)


@login_required
def errors_view(request, dataset, token):
    ds = _dataset(dataset)
    path = _paths(request.user, token)["report"] if TOKEN_RE.match(token) else None
    if ds is None or path is None or not path.exists():
        return _error_page(request, 404, _("导入结果已过期（保留1小时），请重新预检。"))
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{ds.title}导入结果.xlsx",
                        content_type=excel.XLSX_CONTENT_TYPE)
