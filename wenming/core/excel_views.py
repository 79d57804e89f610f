"""Console pages for Excel import and export of the ledgers (/data/…).

Import is two steps: upload → dry run (预检) shows the report; 确认导入 re-runs the same file
for real. Between the two the file waits under VAR_DIR/imports, named by the user's id and a
random token (another account cannot use it), and is removed after the import or after an hour.

A small file is checked and imported within the request. A large one (more rows than
WENMING_IMPORT_INLINE_ROWS) runs in a background thread of the web process, so that no
request outlives the server's timeout: the page shows its progress and refreshes itself
until the report is ready. Each chunk of rows is committed as it goes, so a job cut short
(a server restart) leaves whole rows only, and importing the file again skips them.
"""

import contextvars
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import excel
from .errors import DomainError, Forbidden, NotFound
from .models import User
from .scoping import can_reveal

log = logging.getLogger(__name__)

UPLOAD_TTL = 3600  # seconds an uploaded file (and a report) is kept
STALE_JOB = 120  # seconds without progress after which a running job is taken as cut short
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
SHOWN_ROWS = 200  # errors listed on the page; the downloadable report has them all
_threads: dict[str, threading.Thread] = {}  # running jobs by token (tests join them)


def inline_rows() -> int:
    return int(getattr(settings, "WENMING_IMPORT_INLINE_ROWS", 2000))


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


def _paths(user_id: int, token: str) -> dict[str, Path]:
    base = imports_dir() / f"{user_id}-{token}"
    return {name: base.with_name(base.name + suffix) for name, suffix in (
        ("upload", ".xlsx"), ("meta", ".json"), ("claimed", ".claimed.json"), ("status", ".status.json"),
        ("result", ".result.json"), ("report", ".errors.xlsx"))}


def purge_expired(now: float | None = None) -> int:
    """Remove uploads, reports and job records older than an hour; returns how many files went."""
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


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False))
    os.replace(tmp, path)  # readers never see half a file


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _import_page(request, dataset, error: str = "", status: int = 200):
    context = {"dataset": dataset, "error": error, "max_rows": excel.max_rows(),
               "max_mb": excel.max_bytes() // 1048576}
    return render(request, "core/import.html", context, status=status)


def _save_report(paths: dict[str, Path], report) -> None:
    if report.errors or report.skips:
        excel.write_error_report(paths["report"], report)


def _report_page(request, dataset, report, token: str, filename: str):
    paths = _paths(request.user.pk, token)
    context = {"dataset": dataset, "report": report, "token": token, "filename": filename,
               "errors": report.errors[:SHOWN_ROWS], "skips": report.skips[:SHOWN_ROWS], "shown": SHOWN_ROWS,
               "has_file": paths["report"].exists(),
               "confirmable": report.dry_run and report.imported and paths["meta"].exists()}
    return render(request, "core/import_report.html", context)


@login_required
def index(request):
    user = request.user
    rows = [{"dataset": ds, "import": ds.importable and excel.can_import(user), "export": excel.can_export(user),
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
    if not ds.importable:
        return _error_page(request, 404, _("该台账只能导出，不能导入。"))
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
    paths = _paths(request.user.pk, token)
    with paths["upload"].open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    filename = Path(upload.name or "").name[:100]
    try:
        rows = excel.inspect_file(paths["upload"], ds)  # a bad file is refused at once
    except DomainError as exc:
        _discard(paths, "upload")
        return _import_page(request, ds, exc.message)
    _write_json(paths["meta"], {"dataset": ds.name, "filename": filename, "rows": rows, "at": time.time()})
    return _run(request, ds, token, filename, dry_run=True, rows=rows)


def _confirm(request, ds):
    token = request.POST.get("token", "")
    if not TOKEN_RE.match(token):
        return _import_page(request, ds, _("预检记录无效，请重新上传文件。"))
    paths = _paths(request.user.pk, token)
    try:  # claiming the file is atomic: a double click imports once
        os.replace(paths["meta"], paths["claimed"])
    except OSError:
        if (_read_json(paths["status"]) or {}).get("dry_run") is False:
            return redirect("excel:job", dataset=ds.name, token=token)
        return _import_page(request, ds, _("预检后的文件已过期或已经导入，请重新上传文件。"))
    meta = _read_json(paths["claimed"])
    _discard(paths, "claimed")
    if not meta or meta.get("dataset") != ds.name or not paths["upload"].exists() \
            or time.time() - meta.get("at", 0) > UPLOAD_TTL:
        _discard(paths, "upload")
        return _import_page(request, ds, _("预检后的文件已过期或已经导入，请重新上传文件。"))
    _discard(paths, "report", "result")
    return _run(request, ds, token, meta["filename"], dry_run=False, rows=meta.get("rows"))


def _run(request, ds, token: str, filename: str, *, dry_run: bool, rows: int | None):
    """Run the dry run or the import now (small files) or in the background (large ones)."""
    paths = _paths(request.user.pk, token)
    if rows is not None and rows <= inline_rows():
        try:
            report = excel.run_import(ds, request.user, paths["upload"], dry_run=dry_run, filename=filename)
        except DomainError as exc:
            _discard(paths, "upload", "meta")
            return _import_page(request, ds, exc.message)
        finally:
            if not dry_run:
                _discard(paths, "upload")
        if dry_run and not report.imported:
            _discard(paths, "upload", "meta")  # nothing to confirm
        _save_report(paths, report)
        return _report_page(request, ds, report, token, filename)
    _start_job(request.user, ds, token, filename, dry_run, rows)
    return redirect("excel:job", dataset=ds.name, token=token)


def _start_job(user, ds, token: str, filename: str, dry_run: bool, rows: int | None) -> None:
    paths = _paths(user.pk, token)
    _write_json(paths["status"], {"state": "running", "dry_run": dry_run, "done": 0, "total": rows,
                                  "filename": filename, "at": time.time()})
    context = contextvars.copy_context()  # the request's address goes with it into the audit trail
    thread = threading.Thread(target=context.run, args=(_job, ds.name, user.pk, token, filename, dry_run),
                              name=f"excel-import-{token[:8]}", daemon=True)
    _threads[token] = thread
    thread.start()


def _job(dataset: str, user_id: int, token: str, filename: str, dry_run: bool) -> None:
    paths = _paths(user_id, token)
    status = _read_json(paths["status"]) or {}

    def progress(done, total):
        _write_json(paths["status"], {**status, "done": done, "total": total or status.get("total"),
                                      "at": time.time()})

    try:
        ds = excel.get_dataset(dataset)
        report = excel.run_import(ds, User.objects.get(pk=user_id), paths["upload"], dry_run=dry_run,
                                  filename=filename, progress=progress)
        if dry_run and not report.imported:
            _discard(paths, "upload", "meta")
        _save_report(paths, report)
        _write_json(paths["result"], report.as_dict())
        _write_json(paths["status"], {**status, "state": "done", "done": report.total, "at": time.time()})
    except DomainError as exc:
        _discard(paths, "upload", "meta")
        _write_json(paths["status"], {**status, "state": "failed", "message": exc.message, "at": time.time()})
    except Exception:
        log.exception("import job %s failed", token)
        _write_json(paths["status"], {**status, "state": "failed", "at": time.time(),
                                      "message": "导入时发生内部错误，已写入的行都是完整的；请稍后重新上传文件导入"
                                                 "（已导入的行会自动跳过）。"})
    finally:
        if not dry_run:
            _discard(paths, "upload")
        connections.close_all()
        _threads.pop(token, None)


@login_required
def job_view(request, dataset, token):
    """A background dry run or import: its progress (the page refreshes itself), then its report."""
    ds = _dataset(dataset)
    paths = _paths(request.user.pk, token) if TOKEN_RE.match(token) else None
    status = _read_json(paths["status"]) if paths else None
    if ds is None or status is None:
        return _error_page(request, 404, _("导入任务不存在或已过期（保留1小时）。"))
    if status["state"] == "running" and time.time() - status.get("at", 0) > STALE_JOB \
            and token not in _threads:
        status = {**status, "state": "failed", "message": _("导入任务已中断（可能是服务器重启）。已写入的行都是完整的；"
                                                             "请重新上传文件导入，已导入的行会自动跳过。")}
    if status["state"] == "failed":
        return _import_page(request, ds, status.get("message", ""))
    if status["state"] == "running":
        total = status.get("total") or 0
        percent = min(100, round(100 * status.get("done", 0) / total)) if total else None
        return render(request, "core/import_progress.html", {"dataset": ds, "status": status, "percent": percent})
    result = _read_json(paths["result"])
    if result is None:
        return _error_page(request, 404, _("导入任务不存在或已过期（保留1小时）。"))
    report = excel.ImportReport.from_dict(result)
    return _report_page(request, ds, report, token, status.get("filename", ""))


@login_required
def template_view(request, dataset):
    ds = _dataset(dataset)
    if ds is None:
        return _error_page(request, 404, _("没有这类台账。"))
    if not ds.importable:
        return _error_page(request, 404, _("该台账只能导出，不能导入。"))
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
    path = _paths(request.user.pk, token)["report"] if TOKEN_RE.match(token) else None
    if ds is None or path is None or not path.exists():
        return _error_page(request, 404, _("导入结果已过期（保留1小时），请重新预检。"))
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{ds.title}导入结果.xlsx",
                        content_type=excel.XLSX_CONTENT_TYPE)
