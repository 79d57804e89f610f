"""Excel in and out for every ledger (台账): a small engine that datasets plug into.

A *dataset* (volunteers, teams, org nodes, sites …) names its columns and says how one
row is imported and how its rows are exported. Datasets live in their domain app and
register themselves here from their AppConfig.ready(); core imports none of them.

Import: `run_import(dataset, user, file, dry_run=...)` checks the file (size, container,
headers, row count), reads it streaming (openpyxl read-only), parses each cell, reports
every bad cell with its row, column and a Chinese reason, refuses duplicate rows inside
the file, and hands the good rows to the dataset in chunks. Each row is atomic: it is
written whole or not at all. A dry run goes through the very same steps inside a
transaction that is rolled back. Export: `export_workbook` streams rows into a
write-only workbook (flat memory), with Chinese headers, numbers as numbers and dates as
dates, and records who exported what in the audit trail.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zipfile
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, models, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from . import audit
from .errors import DomainError, Forbidden, InvalidInput, NotFound
from .models import OrgNode, User
from .scoping import MANAGER_ROLES, can_reveal, in_reach
from .validators import ascii_form

log = logging.getLogger(__name__)

MAX_CELL_CHARS = 200
MAX_HEADER_COLUMNS = 200
HEADER_SCAN_ROWS = 10
EXTRA_COLUMNS = 32  # columns right of the header that are still read, to catch data without a header
CHUNK_SIZE = 500
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def max_rows() -> int:
    return int(getattr(settings, "WENMING_IMPORT_MAX_ROWS", 100_000))


def max_bytes() -> int:
    return int(getattr(settings, "WENMING_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


# --- Errors ---------------------------------------------------------------------------------


class BadFile(InvalidInput):
    """The file as a whole cannot be imported (not an xlsx, wrong headers, too large …)."""

    code = "bad_file"


class CellInvalid(InvalidInput):
    """A dataset refuses one cell of a row: `key` names the column."""

    def __init__(self, key: str, message: str, *, code: str = "cell_invalid"):
        super().__init__(message, code=code)
        self.key = key


class Skip(Exception):
    """A dataset skips a row that is already there (re-import): reported, not an error."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Cell parsers: an Excel value (never empty) → a Python value, or InvalidInput -----------


def _number_text(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def text(value) -> str:
    """Any cell as text (a number typed into a text column keeps its digits)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time(0) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, str) else _number_text(value)


def digits_text(label: str) -> Callable[[Any], str]:
    """Text that must not have gone through a number cell (18-digit ID numbers lose digits there)."""

    def parse(value) -> str:
        if isinstance(value, float) and abs(value) >= 1e15:
            raise InvalidInput(f"{label}被Excel当成了数字，末几位已丢失；请把该列设为“文本”格式后重新填写。",
                               code="number_as_float")
        return ascii_form(text(value)).replace(" ", "").upper()

    return parse


def division_code(value) -> str:
    code = digits_text("区划代码")(value)
    if not re.fullmatch(r"\d{12}", code):
        raise InvalidInput("区划代码须为12位数字（统计用区划代码）。", code="division_code_format")
    return code


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[Any], int]:
    def parse(value) -> int:
        try:
            number = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, bool) else None
        except Exception:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise InvalidInput("须为整数。", code="integer_invalid")
        result = int(number)
        if (minimum is not None and result < minimum) or (maximum is not None and result > maximum):
            raise InvalidInput(f"须在{minimum}至{maximum}之间。", code="integer_range")
        return result

    return parse


def decimal(minimum: float, maximum: float) -> Callable[[Any], float]:
    def parse(value) -> float:
        try:
            number = float(str(value).strip()) if not isinstance(value, bool) else None
        except ValueError:
            number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            raise InvalidInput("须为数字。", code="number_invalid")
        if not minimum <= number <= maximum:
            raise InvalidInput(f"须在{minimum:g}至{maximum:g}之间。", code="number_range")
        return number

    return parse


YES = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
NO = {"否", "n", "no", "false", "0", "×", "无"}


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value).strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise InvalidInput("请填写“是”或“否”。", code="boolean_invalid")


def choice(options: dict[str, str]) -> Callable[[Any], str]:
    """A label (as shown to people) → the stored value; `options` maps every accepted label."""

    def parse(value) -> str:
        word = text(value).strip()
        if word in options:
            return options[word]
        shown = "、".join(dict.fromkeys(options))
        raise InvalidInput(f"“{word[:20]}”不在可选范围内（可选：{shown}）。", code="choice_invalid")

    return parse


SEPARATORS = re.compile(r"[、,，;；/\s]+")


def split_list(value) -> list[str]:
    return [part for part in SEPARATORS.split(text(value)) if part]


def check_node_name(values: dict, key: str, node: OrgNode) -> None:
    """An optional name column beside a division code must name the same node."""
    given = values.get(key)
    if given and given != node.name:
        raise CellInvalid(key, f"该区划代码对应的组织是“{node.name}”，与所填名称不符。", code="node_name_mismatch")


def batched(iterable: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- Datasets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a ledger, the same in the template, the import and the export."""

    header: str
    key: str
    required: bool = False
    parse: Callable[[Any], Any] = text
    kind: str = "text"  # text | integer | number | date | datetime: how the template and export format it
    max_chars: int = MAX_CELL_CHARS
    imported: bool = True  # False: shown in exports, accepted and ignored on import (编号, 注册时间 …)
    width: int = 16
    help: str = ""
    choices: tuple[str, ...] = ()  # a drop-down list in the template


@dataclass(slots=True)
class Row:
    number: int  # the row number in the sheet, as Excel shows it
    values: dict[str, Any]


@dataclass(slots=True)
class RowError:
    row: int
    column: str  # the header, "" when the reason concerns the whole row
    message: str
    letter: str = ""  # the column letter in the uploaded sheet


@dataclass
class ImportReport:
    dataset: str
    title: str
    dry_run: bool
    total: int = 0  # data rows read (blank rows not counted)
    imported: int = 0  # written (dry run: would be written)
    skipped: int = 0  # already there
    errors: list[RowError] = field(default_factory=list)
    skips: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Rows refused (one row may have several errors)."""
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict:
        return {"dataset": self.dataset, "title": self.title, "dry_run": self.dry_run, "total": self.total,
                "imported": self.imported, "skipped": self.skipped,
                "errors": [(e.row, e.column, e.message, e.letter) for e in self.errors],
                "skips": [(e.row, e.column, e.message, e.letter) for e in self.skips]}

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        report = cls(data["dataset"], data["title"], data["dry_run"], data["total"], data["imported"], data["skipped"])
        report.errors = [RowError(*e) for e in data["errors"]]
        report.skips = [RowError(*e) for e in data["skips"]]
        return report

    def summary(self) -> str:
        verb = "可导入" if self.dry_run else "已导入"
        return f"共{self.total}行：{verb}{self.imported}行，跳过{self.skipped}行，有误{self.failed}行。"


class ImportContext:
    """What a dataset's import sees: the user, whether it is a dry run, a per-import cache,
    and where it records each row's outcome."""

    def __init__(self, dataset: Dataset, user, dry_run: bool):
        self.dataset = dataset
        self.user = user
        self.dry_run = dry_run
        self.cache: dict = {}
        self.outcomes: list[tuple[str, Row, str, str]] = []  # (kind, row, column key, message)

    def node(self, code: str | None) -> OrgNode | None:
        """The org node with a division code (cached for the import; misses are not cached, since
        an earlier row of the same file may create the node)."""
        if not code:
            return None
        nodes = self.cache.setdefault("nodes", {})
        node = nodes.get(code)
        if node is None:
            node = OrgNode.objects.filter(division_code=code).first()
            if node is not None:
                nodes[code] = node
        return node

    def remember(self, node: OrgNode) -> None:
        self.cache.setdefault("nodes", {})[node.division_code] = node

    def imported(self, row: Row) -> None:
        self.outcomes.append(("imported", row, "", ""))

    def skipped(self, row: Row, message: str) -> None:
        self.outcomes.append(("skipped", row, "", message))

    def failed(self, row: Row, key: str, message: str) -> None:
        self.outcomes.append(("failed", row, key, message))

    def fail_with(self, row: Row, exc: Exception) -> None:
        """Record why a row was refused, whatever was raised."""
        if isinstance(exc, Skip):
            self.skipped(row, exc.message)
        elif isinstance(exc, CellInvalid):
            self.failed(row, exc.key, exc.message)
        elif isinstance(exc, DomainError):
            self.failed(row, self.dataset.error_columns.get(exc.code, ""), exc.message)
        elif isinstance(exc, IntegrityError):
            self.failed(row, "", "与已有数据冲突（可能刚被他人录入），该行未导入。")
        else:
            log.exception("import of %s row %s failed", self.dataset.name, row.number, exc_info=exc)
            self.failed(row, "", "该行保存时发生内部错误，未写入任何数据。")


@dataclass
class Dataset:
    """A ledger that can be imported and exported.

    import_row(ctx, values): write one row (raise Skip, CellInvalid or a DomainError to refuse it);
        it runs inside its own savepoint, so a row is written whole or not at all.
    import_batch(ctx, rows): optional, for large ledgers: import a chunk of rows at once, recording
        each row's outcome on ctx (and keeping each row atomic itself).
    export_rows(user, full=, within=): the rows to export, values in column order.
    key(values): the natural key, to refuse the same row twice in one file.
    """

    name: str
    title: str
    columns: list[Column]
    export_rows: Callable[..., Iterable[tuple]]
    import_row: Callable[[ImportContext, dict], None] | None = None
    import_batch: Callable[[ImportContext, list[Row]], None] | None = None
    key: Callable[[dict], Hashable | None] | None = None
    export_count: Callable[..., int] | None = None
    audit_name: str = ""
    error_columns: dict[str, str] = field(default_factory=dict)  # DomainError.code → column key
    template: list[tuple] = field(default_factory=list)  # example rows (importable columns)
    reveals: bool = False  # whether a full export shows personal numbers (then only for can_reveal)
    notes: list[str] = field(default_factory=list)  # shown on the import page and in the template

    def __post_init__(self):
        self.audit_name = self.audit_name or self.name
        self.by_key = {c.key: c for c in self.columns}

    @property
    def importable(self) -> bool:
        """False for ledgers that can only be exported (service records: hours are never typed in)."""
        return self.import_row is not None or self.import_batch is not None

    @property
    def import_columns(self) -> list[Column]:
        return [c for c in self.columns if c.imported]

    def header_of(self, key: str) -> str:
        column = self.by_key.get(key)
        return column.header if column else ""


_registry: dict[str, Dataset] = {}


def register_dataset(dataset: Dataset) -> Dataset:
    _registry[dataset.name] = dataset
    return dataset


def get_dataset(name: str) -> Dataset:
    try:
        return _registry[name]
    except KeyError:
        raise NotFound("没有这类台账。", code="dataset_not_found")


def datasets() -> list[Dataset]:
    return list(_registry.values())


# --- Who may do what --------------------------------------------------------------------------

EXPORT_ROLES = MANAGER_ROLES | {User.Role.VIEWER}


def can_import(user) -> bool:
    return getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in MANAGER_ROLES)


def can_export(user) -> bool:
    return getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in EXPORT_ROLES)


def require_import(user) -> None:
    if not can_import(user):
        raise Forbidden("您的角色无权导入数据。", code="role_forbidden")


def require_export(user, dataset: Dataset, full: bool) -> None:
    if not can_export(user):
        raise Forbidden("您的角色无权导出数据。", code="role_forbidden")
    if full and dataset.reveals and not can_reveal(user):
        raise Forbidden("您无权导出完整的证件号码和手机号码。", code="reveal_forbidden")


def account_for_command(username: str | None) -> User:
    """The account a command-line import or export runs as: --as <username>, else the first superuser."""
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise InvalidInput(f"账号“{username}”不存在或已停用。", code="user_not_found")
        return user
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if user is None:
        raise InvalidInput("没有可用的超级管理员账号：请用 --as <用户名> 指定区文明办管理员或超级管理员。",
                           code="user_required")
    return user


def node_within(user, code: str | None) -> OrgNode | None:
    """The node an export is limited to (by division code), which must be in the user's reach."""
    code = (code or "").strip()
    if not code:
        return None
    node = OrgNode.objects.filter(division_code=code[:12]).first()
    if node is None or not in_reach(user, node):
        raise NotFound("该组织不存在或不在您的管辖范围内。", code="node_not_found")
    return node


# --- Reading a workbook ----------------------------------------------------------------------


def _size_of(fh) -> int:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    return size


def _describe(head: bytes) -> str:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"GIF8"):
        return "图片"
    if head.startswith(b"%PDF"):
        return "PDF 文件"
    try:
        head.decode("utf-8")
        return "文本或 CSV 文件"
    except UnicodeDecodeError:
        return ""


def check_container(fh) -> None:
    """Refuse what is not an .xlsx before openpyxl sees it: size, magic bytes, zip members."""
    size = _size_of(fh)
    limit = max_bytes()
    if size == 0:
        raise BadFile("上传的文件是空的。", code="file_empty")
    if size > limit:
        raise BadFile(f"文件过大（{size / 1048576:.1f}MB），单个文件不能超过{limit // 1048576}MB，请拆分后导入。",
                      code="file_too_large")
    head = fh.read(512)
    fh.seek(0)
    if not head.startswith(b"PK\x03\x04"):
        kind = _describe(head)
        if kind == "xls":
            raise BadFile("这是旧版 Excel（.xls）或加了密码的工作簿。请在 Excel 或 WPS 中“另存为” .xlsx 格式"
                          "（并取消密码）后再导入。", code="xls_not_supported")
        what = f"（看起来是{kind}）" if kind else ""
        raise BadFile(f"文件不是 Excel 工作簿（.xlsx）{what}。请使用下载的模板填写后上传。", code="not_xlsx")
    try:
        with zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
            if "mimetype" in names and "content.xml" in names:
                raise BadFile("这是 WPS/LibreOffice 的 ODS 表格。请“另存为” .xlsx 格式后再导入。", code="not_xlsx")
            if "xl/workbook.bin" in names:
                raise BadFile("不支持 Excel 二进制工作簿（.xlsb）。请“另存为” .xlsx 格式后再导入。", code="not_xlsx")
            if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
                raise BadFile("这是一个压缩包，不是 Excel 工作簿（.xlsx）。请使用下载的模板填写后上传。", code="not_xlsx")
            if unpacked > 20 * limit:
                raise BadFile("文件解压后过大，无法导入。请拆分后导入。", code="file_too_large")
            broken = archive.testzip()
            if broken:
                raise BadFile("文件已损坏（部分内容校验失败），请用 Excel 或 WPS 打开后重新保存。", code="file_corrupt")
    except BadFile:
        raise
    except Exception:  # BadZipFile, zlib.error, EOFError, RuntimeError (encrypted member) …
        raise BadFile("文件已损坏，无法作为 .xlsx 打开。请用 Excel 或 WPS 打开后另存为 .xlsx。", code="file_corrupt")
    finally:
        fh.seek(0)


def _header_text(value) -> str:
    if value is None:
        return ""
    word = re.sub(r"\s+", "", text(value))
    return re.sub(r"(\*|＊|（必填）|\(必填\))$", "", word)


@dataclass
class Sheet:
    """An opened, checked sheet: where its header is and which column each position holds."""

    workbook: Any
    worksheet: Any
    header_row: int
    positions: list[Column | None]  # by position (0-based) in the header row
    declared_rows: int | None

    @property
    def width(self) -> int:
        return len(self.positions)

    def letter(self, key: str) -> str:
        for i, column in enumerate(self.positions):
            if column is not None and column.key == key:
                return get_column_letter(i + 1)
        return ""

    def close(self) -> None:
        self.workbook.close()


def _pick_sheet(workbook, dataset: Dataset):
    sheets = workbook.worksheets
    if not sheets:
        raise BadFile("工作簿中没有工作表。", code="no_sheet")
    for ws in sheets:
        if ws.title.strip() == dataset.title:
            return ws
    return sheets[0]


def _find_header(ws, dataset: Dataset) -> tuple[int, list]:
    known = {c.header for c in dataset.columns}
    first_nonempty = None
    for number, row in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True), start=1):
        words = [_header_text(v) for v in row]
        if not any(words):
            continue
        first_nonempty = first_nonempty or (number, words)
        if any(w in known for w in words):
            return number, words
    if first_nonempty is None:
        raise BadFile("工作表是空的：没有找到表头，也没有数据。请使用下载的模板填写。", code="sheet_empty")
    expected = "、".join(c.header for c in dataset.import_columns)
    raise BadFile(f"第{first_nonempty[0]}行不是“{dataset.title}”的表头。表头应为：{expected}。请使用下载的模板。",
                  code="header_missing")


def _match_header(words: list[str], row_number: int, dataset: Dataset) -> list[Column | None]:
    while words and not words[-1]:
        words.pop()
    if len(words) > MAX_HEADER_COLUMNS:
        raise BadFile(f"表头有{len(words)}列，超过{MAX_HEADER_COLUMNS}列，不是本系统的模板。", code="header_invalid")
    by_header = {c.header: c for c in dataset.columns}
    positions, unknown, seen, duplicated = [], [], set(), []
    for i, word in enumerate(words):
        column = by_header.get(word)
        if word and column is None:
            unknown.append(f"{get_column_letter(i + 1)}列“{word[:30]}”")
        if column is not None and column.key in seen:
            duplicated.append(f"{get_column_letter(i + 1)}列“{word}”")
            column = None
        if column is not None:
            seen.add(column.key)
        positions.append(column)
    missing = [c.header for c in dataset.import_columns if c.required and c.key not in seen]
    problems = []
    if missing:
        problems.append("缺少必填列：" + "、".join(missing))
    if unknown:
        problems.append("无法识别的列：" + "、".join(unknown))
    if duplicated:
        problems.append("重复的列：" + "、".join(duplicated))
    if problems:
        raise BadFile(f"表头（第{row_number}行）不正确——" + "；".join(problems) + "。请使用下载的模板，不要修改表头。",
                      code="header_invalid")
    return positions


def open_sheet(fh, dataset: Dataset) -> Sheet:
    """Check a file and open its sheet for reading; raises BadFile with a Chinese reason."""
    check_container(fh)
    try:
        workbook = load_workbook(fh, read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds on a broken file; all mean the same to the user
        raise BadFile("文件已损坏或格式不正确，无法读取。请用 Excel 或 WPS 打开后另存为 .xlsx。", code="file_corrupt")
    try:
        ws = _pick_sheet(workbook, dataset)
        declared = ws.max_row
        ws.reset_dimensions()  # read every row actually there, whatever the declared size
        header_row, words = _find_header(ws, dataset)
        positions = _match_header(words, header_row, dataset)
        sheet = Sheet(workbook, ws, header_row, positions, None)
        sheet.declared_rows = _count_rows(sheet, declared)
    except BadFile:
        workbook.close()
        raise
    except Exception:
        workbook.close()
        raise BadFile("文件已损坏或格式不正确，无法读取。请用 Excel 或 WPS 打开后另存为 .xlsx。", code="file_corrupt")
    return sheet


ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?row[\s>/]")


def _scan_rows(ws) -> int | None:
    """How many <row> elements the sheet's XML holds, found without parsing it (fast; an upper
    bound of the rows with data, since formatting alone can make a row)."""
    try:
        source = ws._get_source()
    except Exception:  # openpyxl internals moved: count the slow way instead
        return None
    keep, count, data = 64, 0, b""
    with source:
        while chunk := source.read(1 << 20):
            data += chunk
            cut = len(data) - keep
            count += sum(1 for m in ROW_TAG.finditer(data) if m.start() < cut)
            data = data[cut:]
    return count + len(ROW_TAG.findall(data))


def inspect_file(file, dataset: Dataset) -> int | None:
    """Check a file as an import would (raises BadFile) and return its number of data rows
    (an estimate when the sheet does not declare its size)."""
    fh = open(file, "rb") if isinstance(file, (str, os.PathLike)) else file
    try:
        sheet = open_sheet(fh, dataset)
        sheet.close()
        return sheet.declared_rows
    finally:
        if fh is not file:
            fh.close()


def _count_rows(sheet: Sheet, declared: int | None) -> int | None:
    """The number of data rows (for the progress bar), refusing a file with too many: from the
    sheet's declared size, else from its row elements; counted row by row only when both say
    too many (a sheet formatted down to row 1,048,576 declares rows it does not have)."""
    limit = max_rows()
    if declared is not None and declared - sheet.header_row <= limit:
        return max(declared - sheet.header_row, 0)
    scanned = _scan_rows(sheet.worksheet)
    if scanned is not None and scanned - sheet.header_row <= limit:
        return max(scanned - sheet.header_row, 0)
    count = 0
    for values in sheet.worksheet.iter_rows(min_row=sheet.header_row + 1, max_col=sheet.width, values_only=True):
        if not all(_blank(v) for v in values):
            count += 1
            if count > limit:
                raise BadFile(f"文件的数据超过单次导入上限{limit}行，请拆分成多个文件后导入。", code="too_many_rows")
    return count


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(cell, column: Column):
    """The value of one cell for `column`, or InvalidInput. None when the cell is empty."""
    if cell.data_type == "f":
        raise InvalidInput("不支持公式，请把公式转换为数值（复制后“选择性粘贴→数值”）再导入。", code="formula")
    value = cell.value
    if cell.data_type == "e" or (isinstance(value, str) and value in EXCEL_ERRORS):
        raise InvalidInput("单元格是错误值（如 #N/A），请改正。", code="error_value")
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if len(value) > column.max_chars:
            raise InvalidInput(f"内容过长（{len(value)}字），不能超过{column.max_chars}字。", code="too_long")
    return column.parse(value)


def read_rows(sheet: Sheet) -> Iterator[tuple[Row, list[RowError]]]:
    """Every non-blank data row: its parsed values and the errors of its cells."""
    limit = max_rows()
    positions = sheet.positions
    width = len(positions)
    required = [(c, get_column_letter(i + 1)) for i, c in enumerate(positions) if c and c.required and c.imported]
    count = 0
    first = sheet.header_row + 1
    cells_by_row = sheet.worksheet.iter_rows(min_row=first, max_col=min(width + EXTRA_COLUMNS, 16384))
    for number, cells in enumerate(cells_by_row, start=first):
        values, errors, failed, blank = {}, [], set(), True
        for i, cell in enumerate(cells):
            value = cell.value
            if value is None or (value.__class__ is str and not value.strip()):
                continue
            blank = False
            column = positions[i] if i < width else None
            if column is None:
                errors.append(RowError(number, "", "该列没有表头，内容无法识别；请删除或补上表头。", get_column_letter(i + 1)))
            elif column.imported:
                try:
                    values[column.key] = _cell(cell, column)
                except InvalidInput as exc:
                    failed.add(column.key)
                    errors.append(RowError(number, column.header, exc.message, get_column_letter(i + 1)))
        if blank:
            continue
        count += 1
        if count > limit:
            raise BadFile(f"文件的数据超过单次导入上限{limit}行，请拆分成多个文件后导入。", code="too_many_rows")
        for column, letter in required:
            if values.get(column.key) is None and column.key not in failed:
                errors.append(RowError(number, column.header, "必填，不能为空。", letter))
        yield Row(number, values), errors


# --- Importing -------------------------------------------------------------------------------

# Field types whose Python value goes to the database driver as it is.
PLAIN_FIELDS = {models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.BigIntegerField,
                models.PositiveIntegerField, models.SmallIntegerField, models.FloatField}


def bulk_insert(model, rows: list) -> None:
    """INSERT rows in one executemany: what bulk_create does, without its per-value overhead (which
    dominates a 100,000-row import). `rows` are unsaved instances, or dicts of attname → value
    (a missing one takes the field's default). Values are prepared by the field itself
    (get_db_prep_save) unless they go to the driver unchanged; ids are not set. auto_now(_add)
    fields take one timestamp for the whole block."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    prepare = [None if type(f) in PLAIN_FIELDS or f.is_relation else f for f in fields]
    names = [f.attname for f in fields]
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the proxy: fewer lookups per value
    now = timezone.now()
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    if isinstance(rows[0], dict):
        defaults = {f.attname: f.get_default() for f in fields} | dict.fromkeys(stamped, now)
        values = [[row.get(name, defaults[name]) for name in names] for row in rows]
    else:
        for obj in rows:
            for name in stamped:
                setattr(obj, name, now)
        values = [[getattr(obj, name) for name in names] for obj in rows]
    columns = [_prepared_column(column, prep, db) for column, prep in zip(zip(*values, strict=True), prepare, strict=True)]
    params = list(zip(*columns, strict=True))
    qn = db.ops.quote_name
    table, columns = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":  # COPY: the server's bulk path, no statement to parse per row
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", params)


def _prepared_column(values: tuple, field, db) -> tuple | list:
    """One column's values as the driver takes them. A block's rows share many value objects (the
    same timestamp, station, empty list), so a value is prepared once per run of the same object."""
    if field is None:
        return values
    out, last, prepared = [], object(), None
    for value in values:
        if value is not last:
            last, prepared = value, field.get_db_prep_save(value, db)
        out.append(prepared)
    return out


def _import_one_by_one(dataset: Dataset, ctx: ImportContext, rows: list[Row]) -> None:
    for row in rows:
        try:
            with transaction.atomic():
                dataset.import_row(ctx, row.values)
        except Exception as exc:  # recorded as the row's error; the savepoint undid the row
            ctx.fail_with(row, exc)
        else:
            ctx.imported(row)


def _file_key(key) -> bytes | None:
    if key is None:
        return None
    return hashlib.blake2b(repr(key).encode(), digest_size=12).digest()


class _Importer:
    def __init__(self, dataset: Dataset, user, sheet: Sheet, dry_run: bool, progress, chunk_size: int):
        self.dataset = dataset
        self.user = user
        self.sheet = sheet
        self.dry_run = dry_run
        self.progress = progress
        self.chunk_size = chunk_size
        self.report = ImportReport(dataset.name, dataset.title, dry_run)
        self.ctx = ImportContext(dataset, user, dry_run)
        self.seen: dict[bytes, int] = {}

    def run(self) -> ImportReport:
        chunk: list[Row] = []
        self._progress()
        for row, errors in self._rows():
            self.report.total += 1
            if errors:
                self.report.errors.extend(errors)
                continue
            if self._duplicate(row):
                continue
            chunk.append(row)
            if len(chunk) >= self.chunk_size:
                self._flush(chunk)
                chunk = []
        self._flush(chunk)
        if self.report.total == 0:
            raise BadFile("文件中只有表头，没有数据行。", code="no_rows")
        return self.report

    def _rows(self):
        """The sheet's rows; a file that breaks down midway stops the import with what was done so far."""
        rows = read_rows(self.sheet)
        while True:
            try:
                item = next(rows)
            except StopIteration:
                return
            except BadFile as exc:
                raise self._interrupted(exc.message, exc.code)
            except Exception:
                log.exception("reading %s stopped midway", self.dataset.name)
                raise self._interrupted("文件内容在读取途中损坏，无法继续读取。请用 Excel 或 WPS 打开后另存为 .xlsx。",
                                        "file_corrupt")
            yield item

    def _interrupted(self, message: str, code: str) -> BadFile:
        done = self.report
        if not self.dry_run and (done.imported or done.skipped):
            message += f"读取中止前已处理的行：已导入{done.imported}行，跳过{done.skipped}行；其余行未导入。"
        return BadFile(message, code=code)

    def _duplicate(self, row: Row) -> bool:
        if self.dataset.key is None:
            return False
        try:
            digest = _file_key(self.dataset.key(row.values))
        except Exception:
            digest = None
        if digest is None:
            return False
        first = self.seen.get(digest)
        if first is None:
            self.seen[digest] = row.number
            return False
        self.report.errors.append(RowError(row.number, "", f"与第{first}行重复，本行未导入。"))
        return True

    def _flush(self, chunk: list[Row]) -> None:
        if not chunk:
            return
        self.ctx.outcomes = []
        try:
            with transaction.atomic():
                if self.dataset.import_batch is not None:
                    self.dataset.import_batch(self.ctx, chunk)
                else:
                    _import_one_by_one(self.dataset, self.ctx, chunk)
        except DatabaseError:
            log.exception("import chunk of %s failed at commit", self.dataset.name)
            self.ctx.outcomes = [("failed", row, "", "保存失败（数据库繁忙或冲突），该行未导入，请重新导入。")
                                 for row in chunk]
        self._record(self.ctx.outcomes)
        self._progress()

    def _record(self, outcomes) -> None:
        report, dataset = self.report, self.dataset
        for kind, row, key, message in outcomes:
            if kind == "imported":
                report.imported += 1
            elif kind == "skipped":
                report.skipped += 1
                report.skips.append(RowError(row.number, "", message))
            else:
                header = dataset.header_of(key)
                report.errors.append(RowError(row.number, header, message, self.sheet.letter(key) if key else ""))

    def _progress(self) -> None:
        if self.progress:
            self.progress(self.report.total, self.sheet.declared_rows)


def run_import(dataset: Dataset, user, file, *, dry_run: bool = False, progress=None,
               chunk_size: int = CHUNK_SIZE, filename: str = "") -> ImportReport:
    """Import a workbook (a path or a binary file object). Raises BadFile for a file that cannot
    be imported at all and Forbidden for a role that may not import; otherwise every row's
    fate is in the report. A dry run writes nothing."""
    require_import(user)
    if not dataset.importable:
        raise Forbidden(f"“{dataset.title}”只能导出，不能导入。", code="export_only")
    fh = open(file, "rb") if isinstance(file, (str, os.PathLike)) else file
    try:
        sheet = open_sheet(fh, dataset)
        try:
            with transaction.atomic() if dry_run else nullcontext():
                report = _Importer(dataset, user, sheet, dry_run, progress, chunk_size).run()
                if dry_run:
                    transaction.set_rollback(True)
        finally:
            sheet.close()
    finally:
        if fh is not file:
            fh.close()
    report.errors.sort(key=lambda e: (e.row, not e.letter, len(e.letter), e.letter))
    if not dry_run:
        audit.record(user, f"{dataset.audit_name}.import",
                     note=f"Excel导入{dataset.title}{('（' + filename[:80] + '）') if filename else ''}：{report.summary()}")
    return report


# --- Writing workbooks -----------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
REQUIRED_FONT = Font(bold=True, color="B71C1C")
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "text": "@"}


def excel_value(value):
    """A Python value as Excel should hold it: local naive datetimes; text that Excel would
    take for a formula written as text."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _safe_cells(ws, values) -> list:
    out = []
    for value in values:
        value = excel_value(value)
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"  # never a formula: text someone typed stays text
            value = cell
        out.append(value)
    return out


def _header_cells(ws, headers: list[str]) -> list:
    cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def write_workbook(dest, title: str, headers: list[str], rows: Iterable[Iterable], *, widths: list[int] | None = None,
                   text_columns: Iterable[int] = (), progress=None) -> int:
    """Stream rows into a write-only workbook saved to `dest` (path or binary file). Returns the row count."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31] or "Sheet1")
    for i, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for i in text_columns:
        ws.column_dimensions[get_column_letter(i)].number_format = "@"
    ws.freeze_panes = "A2"
    ws.append(_header_cells(ws, headers))
    count = 0
    for values in rows:
        ws.append(_safe_cells(ws, values))
        count += 1
        if progress and count % 2000 == 0:
            progress(count)
    wb.save(dest)
    if progress:
        progress(count)
    return count


def export_workbook(dataset: Dataset, user, dest, *, full: bool = False, within: OrgNode | None = None,
                    progress=None) -> int:
    """Export a dataset's rows in the user's reach to `dest`; audited (count, masked or full)."""
    require_export(user, dataset, full)
    columns = dataset.columns
    rows = dataset.export_rows(user, full=full, within=within)
    count = write_workbook(
        dest, dataset.title, [c.header for c in columns], rows, widths=[c.width for c in columns],
        text_columns=[i for i, c in enumerate(columns, start=1) if c.kind == "text"], progress=progress,
    )
    shown = "完整号码" if full and dataset.reveals else ("脱敏" if dataset.reveals else "")
    scope = f"（{within.name}）" if within else ""
    note = f"Excel导出{dataset.title}{scope}{count}条" + (f"，{shown}" if shown else "")
    audit.record(user, f"{dataset.audit_name}.export", within, note=note)
    return count


def count_for_export(dataset: Dataset, user, within: OrgNode | None = None) -> int | None:
    return dataset.export_count(user, within=within) if dataset.export_count else None


def template_workbook(dataset: Dataset) -> bytes:
    """The import template: the header row (required columns in red, text columns formatted as
    text, drop-downs for choices) and a sheet of instructions with example rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = dataset.title[:31]
    columns = dataset.import_columns
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=column.header + ("*" if column.required else ""))
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[letter].width = column.width
        if column.kind in NUMBER_FORMATS:
            ws.column_dimensions[letter].number_format = NUMBER_FORMATS[column.kind]
            for r in range(2, 1002):
                ws.cell(row=r, column=i).number_format = NUMBER_FORMATS[column.kind]
        if column.choices and len(",".join(column.choices)) < 250:
            dv = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle="不在可选范围内",
                                error="请从下拉列表中选择。")
            dv.add(f"{letter}2:{letter}100001")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    _instructions(wb.create_sheet("填写说明"), dataset, columns)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _instructions(ws, dataset: Dataset, columns: list[Column]) -> None:
    ws.append([f"{dataset.title}导入模板 填写说明"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    notes = [
        "在第一个工作表中从第2行起逐行填写，不要修改表头；带 * 的列必须填写。",
        "身份证号码、手机号码、区划代码等请以文本格式填写（模板已设置为文本格式）。",
        "不要使用公式；每个单元格不超过200字（简介等说明列除外）。",
        f"单个文件不超过{max_rows()}行、{max_bytes() // 1048576}MB。",
        "先“预检”查看每一行的检查结果，确认无误后再“确认导入”；已存在的记录会自动跳过，不会重复导入。",
        *dataset.notes,
    ]
    for note in notes:
        ws.append(["· " + note])
    ws.append([])
    ws.append(["列名", "是否必填", "说明"])
    for cell in ws[ws.max_row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for column in columns:
        ws.append([column.header, "必填" if column.required else "选填", column.help])
    if dataset.template:
        ws.append([])
        ws.append(["示例（请勿直接导入示例数据）："])
        ws.append([c.header for c in columns])
        for row in dataset.template:
            ws.append([excel_value(v) for v in row])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 70


ERROR_HEADERS = ["行号", "列", "列名", "处理结果", "原因"]


def write_error_report(dest, report: ImportReport) -> int:
    """The row-by-row report as a workbook: every error, then every skipped row."""
    def rows():
        for e in report.errors:
            yield (e.row, e.letter, e.column, "未导入", e.message)
        for e in report.skips:
            yield (e.row, e.letter, e.column, "已跳过", e.message)

    return write_workbook(dest, "导入结果", ERROR_HEADERS, rows(), widths=[8, 6, 18, 10, 70])
