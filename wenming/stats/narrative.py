"""The work summary (工作总结): a Chinese narrative of a node's figures for a period.

    figures = queries.summary(node, start, end)         # the dict of docs/FIGURES.md
    paragraphs = work_summary(figures, body)            # body: a district's wording, or None
    data = summary_docx(figures, paragraphs)            # the .docx

The wording is a Django template: the default in `stats/summary_default.txt`, a district's own in
`SummaryTemplate` (edited on /stats/summary/template/). It is written with the filters of
`stats_cn` (`cn_count`, `cn_rate`, `cn_hours` … — the rounding rules are in that module) and
`{% if %}` around every clause whose figure may be zero or unknown: such a clause is left out,
never filled in.

How the text becomes paragraphs: a blank line of the template separates paragraphs (a blank line
inside a `{% if %}` that is false goes with it); the lines of one paragraph are stripped and joined
with nothing between them (Chinese needs no spaces), so a clause per line is fine. Punctuation left dangling by an omitted clause is
tidied ("，，" → "，", "，。" → "。", a separator at the start of a paragraph is dropped, a paragraph
ending in "，" ends in "。"), and a paragraph with no text left is dropped.

A district's template runs in a sandbox: its own template engine with no loaders, no context
processors, no `{% include %}`/`{% extends %}`/`{% debug %}`/`{% url %}`, only harmless built-in
filters (no `add`, `center`, `stringformat` … that could build huge texts), loops capped at
`LOOP_BUDGET` items in all and nested at most `MAX_LOOP_DEPTH` deep, an output of at most
`MAX_OUTPUT` characters, and a context that holds nothing but the figures as plain, read-only data
(texts, numbers, tuples and read-only mappings) — so `{{ settings.SECRET_KEY }}` is just empty, and
`{% load %}` loads nothing but `stats_cn`. A template is checked when it is saved (syntax, unknown
variables, a trial render); one that fails when used anyway falls back to the default wording with
a notice.
"""

from __future__ import annotations

import calendar
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from django.db import transaction
from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.defaulttags import ForNode
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.core import audit
from wenming.core.errors import InvalidInput
from wenming.core.models import OrgNode
from wenming.core.scoping import require_manager

from .templatetags import stats_cn

DEFAULT_TEMPLATE_PATH = Path(__file__).parent / "templates" / "stats" / "summary_default.txt"
MAX_BODY = 20_000
MAX_OUTPUT = 50_000
LOOP_BUDGET = 1_000
MAX_LOOP_DEPTH = 2
MAX_ITEMS = 200
MAX_TEXT = 500
CODE = "template_invalid"

BODY_FONT = "宋体"  # SimSun: the body text of Chinese official documents
BODY_FONT_LATIN = "Times New Roman"
TITLE_FONT = "黑体"  # SimHei

SUBJECT = {OrgNode.Kind.CENTRE: "该中心", OrgNode.Kind.INSTITUTE: "该所", OrgNode.Kind.STATION: "该站"}
CHILD_KIND = {OrgNode.Kind.CENTRE: "各实践所", OrgNode.Kind.INSTITUTE: "各实践站"}

# The headline figures of the page's and the document's table: (key, label, kind).
HEADLINE = [
    ("activities", gettext_lazy("开展活动（场次）"), "count"),
    ("participations", gettext_lazy("参与志愿者（人次）"), "count"),
    ("volunteers", gettext_lazy("参与志愿者（人）"), "count"),
    ("new_volunteers", gettext_lazy("新注册志愿者（人）"), "count"),
    ("active_teams", gettext_lazy("活跃志愿服务队（支）"), "count"),
    ("hours_total", gettext_lazy("服务时长合计（小时）"), "hours"),
    ("hours_verified", gettext_lazy("其中：签到签退核验（小时）"), "hours"),
    ("hours_recorded", gettext_lazy("其中：审批补录（小时）"), "hours"),
    ("people_served", gettext_lazy("受益群众（人次）"), "count"),
    ("needs_collected", gettext_lazy("收集群众需求（条）"), "count"),
    ("needs_fulfilled", gettext_lazy("完成群众心愿（条）"), "count"),
    ("needs_completion_rate", gettext_lazy("需求完成率"), "rate"),
    ("needs_average_rating", gettext_lazy("群众平均评价（星）"), "rating"),
    ("media_reports", gettext_lazy("宣传报道（篇）"), "count"),
    ("media_district", gettext_lazy("其中：区级媒体（篇）"), "count"),
    ("media_city", gettext_lazy("其中：市级媒体（篇）"), "count"),
    ("media_province", gettext_lazy("其中：省级媒体（篇）"), "count"),
    ("media_central", gettext_lazy("其中：中央媒体（篇）"), "count"),
]


# --- The sandbox ---------------------------------------------------------------------------------


class RenderBudgetExceeded(Exception):
    """A template looped over more items than any summary needs."""


class _CappedSequence:
    """The sequence of a `{% for %}`, counted against the render's loop budget."""

    def __init__(self, inner):
        self.inner = inner

    def __str__(self):
        return str(self.inner)

    def resolve(self, context, ignore_failures=False):
        values = self.inner.resolve(context, ignore_failures=ignore_failures)
        if values is None:
            return values
        if not hasattr(values, "__len__"):
            values = list(values)
        budget = context.render_context.dicts[0]
        used = budget.get("narrative_loop_items", 0) + len(values)
        if used > LOOP_BUDGET:
            raise RenderBudgetExceeded(_("模板中的循环次数过多"))
        budget["narrative_loop_items"] = used
        return values


def _for(parser, token):
    node = defaulttags.do_for(parser, token)
    node.sequence = _CappedSequence(node.sequence)
    return node


SAFE_TAGS = ("if", "with", "comment", "firstof", "spaceless", "templatetag", "verbatim", "cycle", "ifchanged",
             "resetcycle", "load", "filter", "autoescape")
SAFE_FILTERS = ("default", "default_if_none", "first", "last", "length", "join", "slice", "yesno", "cut",
                "truncatechars", "divisibleby", "upper", "lower")
_safe = Library()
for _name in SAFE_TAGS:
    _safe.tags[_name] = defaulttags.register.tags[_name]
_safe.tags["for"] = _for
for _name in SAFE_FILTERS:
    _safe.filters[_name] = defaultfilters.register.filters[_name]

INVALID = "\x00未知变量:%s\x00"
_INVALID_RE = re.compile("\x00未知变量:(.*?)\x00")


class SandboxEngine(Engine):
    """A template engine for the editable wording only: see the module's docstring."""

    default_builtins = []

    def __init__(self, string_if_invalid: str = ""):
        super().__init__(
            dirs=[], app_dirs=False, context_processors=[], debug=True, builtins=[], autoescape=False,
            loaders=[("django.template.loaders.locmem.Loader", {})], string_if_invalid=string_if_invalid,
            libraries={"stats_cn": "wenming.stats.templatetags.stats_cn"},
        )
        self.template_builtins = [_safe, stats_cn.register]


_ENGINE = SandboxEngine()
_CHECK_ENGINE = SandboxEngine(string_if_invalid=INVALID)

PARAGRAPH = "\x1e"  # marks a blank line of the template; never in a checked body, stripped from the data
_BLANK_LINE = re.compile(r"^[ \t]*$", re.M)


def _mark_paragraphs(body: str) -> str:
    """Every blank line of the template becomes a paragraph mark (line numbers stay as they were)."""
    return _BLANK_LINE.sub(PARAGRAPH, body.replace(PARAGRAPH, "").replace("\r\n", "\n"))


def _loop_depth(nodelist, depth: int = 0) -> int:
    deepest = depth
    for node in nodelist:
        inner = depth + 1 if isinstance(node, ForNode) else depth
        deepest = max(deepest, inner)
        for attr in getattr(node, "child_nodelists", ()):
            child = getattr(node, attr, None)
            if child:
                deepest = max(deepest, _loop_depth(child, inner))
    return deepest


def default_body() -> str:
    return DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8")


# --- Paragraphs ----------------------------------------------------------------------------------

_SEPARATORS = "，、；："
_RUN = re.compile(f"[{_SEPARATORS}]{{2,}}")
_BEFORE_END = re.compile(f"[{_SEPARATORS}]+([。！？）」”])")
_AFTER_OPEN = re.compile(f"([（「“])[{_SEPARATORS}]+")
_EMPTY_BRACKETS = re.compile(r"（\s*）")
_DOUBLE_STOP = re.compile(r"。{2,}")


def _strongest(run: str) -> str:
    for mark in "；：，、":
        if mark in run:
            return mark
    return run[0]


def tidy(paragraph: str) -> str:
    """Punctuation left over by omitted clauses, cleaned (see the module's docstring)."""
    text = _EMPTY_BRACKETS.sub("", paragraph)
    text = _RUN.sub(lambda m: _strongest(m.group()), text)
    text = _BEFORE_END.sub(r"\1", text)
    text = _AFTER_OPEN.sub(r"\1", text)
    text = _DOUBLE_STOP.sub("。", text)
    text = text.lstrip(_SEPARATORS + "。 \t")
    if text and text[-1] in _SEPARATORS:
        text = text.rstrip(_SEPARATORS) + "。"
    if not re.search(r"[\w\u4e00-\u9fff]", text):
        return ""
    return text


def paragraphs_of(text: str) -> list[str]:
    """The rendered text's paragraphs: split at the template's blank lines, each paragraph's lines
    stripped and joined, tidied; empty ones dropped. (Blank lines the rendering made — a clause left
    out — do not count: what separates paragraphs is decided by the template, not by the data.)"""
    paragraphs = []
    for block in text.split(PARAGRAPH):
        joined = "".join(line.strip() for line in block.replace("\r", "\n").split("\n"))
        cleaned = tidy(joined)
        if cleaned:
            paragraphs.append(cleaned)
    return paragraphs


# --- The context ---------------------------------------------------------------------------------


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_text(start, end, today: date | None = None) -> str:
    """The period as a report names it: "2026年", "2026年3月", "2020年以来", "2026年3月1日至5月31日"."""
    start, end = _as_date(start), _as_date(end)
    if start is None or end is None:
        return ""
    d = stats_cn.date_text
    if start == end:
        return d(start)
    whole_months = start.day == 1 and end == _month_end(end)
    whole_years = whole_months and start.month == 1 and end.month == 12
    if whole_years:
        return f"{start.year}年" if start.year == end.year else f"{start.year}年至{end.year}年"
    if whole_months:
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.year}年{start.month}月"
        tail = f"{end.month}月" if start.year == end.year else f"{end.year}年{end.month}月"
        return f"{start.year}年{start.month}月至{tail}"
    if today is not None and end == today:
        if (start.month, start.day) == (1, 1):
            return f"{start.year}年以来"
        if start.day == 1:
            return f"{start.year}年{start.month}月以来"
        return f"{d(start)}以来"
    tail = f"{end.month}月{end.day}日" if start.year == end.year else d(end)
    return f"{d(start)}至{tail}"


def _freeze(value, depth: int = 0):
    """Plain, read-only data: nothing a template could call to change or reveal anything."""
    if depth > 6:
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return value.replace(PARAGRAPH, "")[:MAX_TEXT]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return MappingProxyType({str(k): _freeze(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]
                                 if isinstance(k, str) and not k.startswith("_")})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v, depth + 1) for v in list(value)[:MAX_ITEMS])
    return None


# The lists of the figures and their entries' numeric fields.
LISTS = ("by_platform", "by_theme", "rank_nodes", "rank_teams_hours", "rank_volunteers_hours", "rank_teams_rating")
ENTRY_NUMBERS = ("activities", "people_served", "hours_total", "events", "average_rating", "ratings",
                 "needs_fulfilled")


def _figure(value):
    """A figure as a template may test it: a positive number, 0 for nothing to report (zero or less,
    e.g. a period whose corrections outweigh its hours), None for anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal) and not value.is_finite() or isinstance(value, float) and not math.isfinite(value):
        return None
    return value if value > 0 else 0


def _entries(rows) -> list[dict]:
    if not isinstance(rows, list | tuple):
        return []
    return [{**row, **{k: _figure(row[k]) for k in ENTRY_NUMBERS if k in row}} for row in rows
            if isinstance(row, dict)]


def _positive(entry, key) -> bool:
    value = entry.get(key) if isinstance(entry, dict) else None
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value > 0


def template_context(figures: dict, today: date | None = None) -> dict:
    """What a template sees: the figures, plus a few things worked out from them.

    The figures' keys as in docs/FIGURES.md, and: `period_text` ("2026年"…), `start`/`end` (ISO
    texts), `start_text`/`end_text` ("2026年1月1日"), `year`, `subject` ("该中心"/"该所"/"该站"),
    `child_kind` ("各实践所"/"各实践站"), and the lists with their empty entries left out, best
    first: `platforms` (by_platform with activities), `themes` (by_theme with activities),
    `children` (rank_nodes with hours), `teams` (rank_teams_hours with hours)."""
    figures = figures if isinstance(figures, dict) else {}
    data = {k: v for k, v in figures.items() if isinstance(k, str) and not k.startswith("_")}
    for key, value in data.items():
        if key in LISTS:
            data[key] = _entries(value)
        elif key not in ("node", "start", "end"):
            data[key] = _figure(value)
    figures = data
    start, end = _as_date(figures.get("start")), _as_date(figures.get("end"))
    node = figures.get("node") if isinstance(figures.get("node"), dict) else {}
    kind = node.get("kind")

    def best(key, measure):
        rows = [r for r in figures.get(key, []) if _positive(r, measure)]
        return sorted(rows, key=lambda r: -r[measure])

    data.update(
        node=node,
        start=start.isoformat() if start else "",
        end=end.isoformat() if end else "",
        start_text=stats_cn.date_text(start),
        end_text=stats_cn.date_text(end),
        year=start.year if start else None,
        period_text=period_text(start, end, today),
        subject=SUBJECT.get(kind, "该单位"),
        child_kind=CHILD_KIND.get(kind, ""),
        platforms=best("by_platform", "activities"),
        themes=best("by_theme", "activities"),
        children=best("rank_nodes", "hours_total"),
        teams=best("rank_teams_hours", "hours_total"),
    )
    return {k: _freeze(v) for k, v in data.items()}


# --- Rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    paragraphs: list[str]
    custom: bool  # the district's own wording was used
    notice: str = ""  # why the district's wording could not be used, if so


def _render(engine: Engine, body: str, context: dict) -> str:
    template = engine.from_string(_mark_paragraphs(body))
    text = template.render(Context(context, autoescape=False))
    if len(text) > MAX_OUTPUT:
        raise RenderBudgetExceeded(_("生成的总结过长"))
    return text


def render_summary(figures: dict, template_body: str | None = None, *, today: date | None = None) -> Summary:
    """The summary's paragraphs from the figures, in the given wording (None: the default)."""
    today = today or timezone.localdate()
    context = template_context(figures, today)
    if template_body:
        try:
            return Summary(paragraphs_of(_render(_ENGINE, template_body, context)), custom=True)
        except Exception as exc:  # noqa: BLE001 — any failure of a district's wording falls back
            notice = _("自定义措辞无法生成总结（%(reason)s），本次已改用默认措辞，请管理员修改模板。") % {
                "reason": _reason(exc)}
            return Summary(paragraphs_of(_render(_ENGINE, default_body(), context)), custom=False,
                           notice=notice)
    return Summary(paragraphs_of(_render(_ENGINE, default_body(), context)), custom=False)


def work_summary(figures: dict, template_body: str | None = None, *, today: date | None = None) -> list[str]:
    """The summary as a list of paragraphs."""
    return render_summary(figures, template_body, today=today).paragraphs


# --- Checking a district's wording ---------------------------------------------------------------

_SYNTAX_MESSAGES = [
    (re.compile(r"Invalid block tag on line \d+: '([^']*)'"), gettext_lazy("不支持的标签“%s”")),
    (re.compile(r"'([^']*)' is not a (?:registered|valid) tag library"), gettext_lazy(
        "不能加载“%s”：只能使用 stats_cn 的过滤器（无需加载）")),
    (re.compile(r"Invalid filter: '([^']*)'"), gettext_lazy("不支持的过滤器“%s”")),
    (re.compile(r"Unclosed tag on line \d+: '([^']*)'"), gettext_lazy("标签“%s”没有结束标签")),
    (re.compile(r"Variables and attributes may not begin with underscores: '([^']*)'"),
     gettext_lazy("变量名不能以下划线开头：“%s”")),
    (re.compile(r"Unclosed tag|Unclosed variable|unclosed"), gettext_lazy("有未闭合的标签或变量")),
]


def _reason(exc: Exception) -> str:
    if isinstance(exc, RenderBudgetExceeded):
        return str(exc)
    if isinstance(exc, RecursionError):
        return _("标签嵌套层数过多")
    text = str(exc)
    for pattern, message in _SYNTAX_MESSAGES:
        match = pattern.search(text)
        if match:
            return str(message) % match.group(1) if "%s" in str(message) else str(message)
    detail = text.splitlines()[0][:120] if text else ""
    return _("模板语法错误（%(detail)s）") % {"detail": detail} if detail else _("模板语法错误")


def _line_of(exc: Exception) -> int | None:
    info = getattr(exc, "template_debug", None)
    return info.get("line") if isinstance(info, dict) else None


def _invalid(message: str, **details) -> InvalidInput:
    return InvalidInput(message, code=CODE, details=details or None)


def sample_figures(node: dict | None = None) -> dict:
    """Figures with every key of docs/FIGURES.md set, for checking a template before it is saved."""
    counts = dict(activities=2043, participations=16000, volunteers=5230, new_volunteers=820,
                  active_teams=86, people_served=76412, people_served_activities=70000,
                  people_served_needs=6412, needs_collected=2500, needs_approved=2420, needs_rejected=60,
                  needs_cancelled=40, needs_dispatched=2400, needs_accepted=2380, needs_fulfilled=2300,
                  needs_rated=1800, needs_overdue=12, media_reports=200, media_district=120, media_city=50,
                  media_province=20, media_central=10)
    return {
        **counts,
        "node": node or {"id": 1, "name": "双清区新时代文明实践中心", "kind": "centre"},
        "start": date(2026, 1, 1), "end": date(2026, 12, 31),
        "hours_verified": 30000.5, "hours_recorded": 2000.0, "hours_total": 32000.5,
        "minutes_verified": 1800030, "minutes_recorded": 120000, "minutes_total": 1920030,
        "needs_completion_rate": 0.9583, "needs_average_rating": 4.83,
        "needs_mean_hours_to_accept": 2.5, "needs_mean_hours_to_complete": 30.25,
        "by_platform": [{"id": 1, "name": "传思想习理论", "activities": 600, "people_served": 20000},
                        {"id": 2, "name": "传文化习礼仪", "activities": 450, "people_served": 15000}],
        "by_theme": [{"id": 1, "name": "理论宣讲", "activities": 500},
                     {"id": 2, "name": "文化惠民", "activities": 400}],
        "rank_nodes": [{"id": 2, "name": "东风路街道新时代文明实践所", "kind": "institute", "activities": 800,
                        "hours_total": 12000.5, "people_served": 30000, "needs_fulfilled": 900},
                       {"id": 3, "name": "汽车站街道新时代文明实践所", "kind": "institute", "activities": 600,
                        "hours_total": 9000.0, "people_served": 20000, "needs_fulfilled": 700}],
        "rank_teams_hours": [{"id": 1, "name": "东风社区志愿服务队", "hours_total": 3000.5, "events": 120}],
        "rank_volunteers_hours": [{"id": 1, "name": "张三", "station": "东风社区新时代文明实践站",
                                   "hours_total": 300.5}],
        "rank_teams_rating": [{"id": 1, "name": "东风社区志愿服务队", "average_rating": 4.9, "ratings": 80}],
    }


def _zero_figures(sample: dict) -> dict:
    def zero(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [] if isinstance(value, list) else value
        return 0

    zeros = {k: zero(v) for k, v in sample.items()}
    zeros.update(needs_completion_rate=None, needs_average_rating=None)
    return zeros


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_body(body) -> str:
    """The body, normalised, if it is a usable template; otherwise InvalidInput(code=template_invalid)
    with a Chinese message naming the problem (and its line)."""
    if not isinstance(body, str):
        raise _invalid(_("模板正文必须是文字。"))
    body = body.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if not body.strip():
        raise _invalid(_("模板正文不能为空；如要恢复默认措辞，请使用“恢复默认”。"))
    if len(body) > MAX_BODY:
        raise _invalid(_("模板正文过长：最多%(max)d个字符，现有%(n)d个。") % {"max": MAX_BODY, "n": len(body)})
    if _CONTROL.search(body):
        raise _invalid(_("模板正文含有不可见的控制字符，请删除后再保存。"))
    try:
        template = _CHECK_ENGINE.from_string(body)
    except TemplateSyntaxError as exc:
        line = _line_of(exc)
        reason = _reason(exc)
        message = (_("模板有语法错误（第%(line)d行）：%(reason)s。") % {"line": line, "reason": reason} if line
                   else _("模板有语法错误：%(reason)s。") % {"reason": reason})
        raise _invalid(message, line=line, error=str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 — whatever the parser chokes on is a refusal, not a 500
        raise _invalid(_("模板无法解析，请检查标签与变量的写法。"), error=str(exc)[:300])
    if _loop_depth(template.nodelist) > MAX_LOOP_DEPTH:
        raise _invalid(_("循环（for）最多嵌套%(n)d层。") % {"n": MAX_LOOP_DEPTH})
    sample = sample_figures()
    try:
        text = _render(_CHECK_ENGINE, body, template_context(sample, sample["end"]))
        _render(_ENGINE, body, template_context(_zero_figures(sample), sample["end"]))
    except Exception as exc:  # noqa: BLE001
        raise _invalid(_("模板无法生成总结：%(reason)s。") % {"reason": _reason(exc)}, error=str(exc)[:300])
    unknown = sorted(set(_INVALID_RE.findall(text)))
    if unknown:
        raise _invalid(_("模板中有不存在的变量：%(names)s。") % {"names": "、".join(unknown[:5])}, variables=unknown)
    if "{{" in text or "{%" in text or "%}" in text or "}}" in text:
        raise _invalid(_("模板中有未闭合的标签或变量（“{{”“{%”须与“}}”“%}”成对出现）。"))
    if not paragraphs_of(text):
        raise _invalid(_("模板没有生成任何文字。"))
    return body


# --- Which wording a node uses, and changing it --------------------------------------------------


def template_for(node: OrgNode):
    """The wording that applies to a node: its own, else its nearest ancestor's; None for the default."""
    from .models import SummaryTemplate

    step = OrgNode.steplen
    paths = [node.path[:i] for i in range(step, len(node.path) + 1, step)]
    return (SummaryTemplate.objects.filter(node__path__in=paths).select_related("node", "updated_by")
            .order_by("-node__depth").first())


def save_template(node: OrgNode, body, *, by):
    """A manager of the node saves its wording (checked first; refused with code template_invalid)."""
    from .models import SummaryTemplate

    require_manager(by, node)
    body = check_body(body)
    with transaction.atomic():
        current = SummaryTemplate.objects.select_for_update().filter(node=node).first()
        before = {"body": current.body} if current else {"body": None}
        if current is None:
            current = SummaryTemplate.objects.create(node=node, body=body, updated_by=by)
        else:
            current.body = body
            current.updated_by = by
            current.save(update_fields=["body", "updated_by", "updated_at"])
        audit.record(by, "stats.summary_template.save", current, before=before, after={"body": body})
    return current


def restore_default(node: OrgNode, *, by) -> bool:
    """Remove the node's own wording (it then uses its ancestor's or the default). False if it had none."""
    from .models import SummaryTemplate

    require_manager(by, node)
    with transaction.atomic():
        current = SummaryTemplate.objects.select_for_update().filter(node=node).first()
        if current is None:
            return False
        audit.record(by, "stats.summary_template.restore_default", current, before={"body": current.body},
                     after={"body": None})
        current.delete()
    return True


# --- The .docx -----------------------------------------------------------------------------------


def exact_value(value, kind: str) -> str | None:
    """A headline figure exactly, for the table: None when unknown."""
    if value is None or isinstance(value, bool):
        return None
    if kind == "rate":
        return f"{Decimal(repr(float(value))) * 100:.2f}".rstrip("0").rstrip(".") + "%"
    if kind in ("hours", "rating"):
        number = float(value)
        return f"{number:.2f}".rstrip("0").rstrip(".") if kind == "rating" else f"{number:.1f}".removesuffix(".0")
    return str(int(value))


def headline_rows(figures: dict) -> list[tuple[str, str]]:
    """(label, exact value) of the headline figures that are known (zeros included: they are exact)."""
    rows = []
    for key, label, kind in HEADLINE:
        try:
            text = exact_value(figures.get(key), kind)
        except (TypeError, ValueError):
            text = None
        if text is not None:
            rows.append((str(label), text))
    return rows


def title_of(figures: dict, today: date | None = None) -> str:
    node = figures.get("node") if isinstance(figures.get("node"), dict) else {}
    when = period_text(figures.get("start"), figures.get("end"), today or timezone.localdate())
    return _("%(node)s%(period)s工作总结") % {"node": node.get("name") or "", "period": when}


def filename_of(figures: dict, today: date | None = None) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", title_of(figures, today))[:120] + ".docx"


def _east_asian(element, font: str, latin: str = BODY_FONT_LATIN) -> None:
    from docx.oxml.ns import qn

    r_pr = element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), font)
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = r_pr.makeelement(qn("w:lang"), {})
        r_pr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _run(paragraph, text: str, *, font: str = BODY_FONT, size=None, bold: bool = False):
    run = paragraph.add_run(text)
    run.bold = bold
    if size is not None:
        run.font.size = size
    _east_asian(run._element, font)
    return run


def summary_docx(figures: dict, paragraphs: list[str], *, today: date | None = None) -> bytes:
    """The summary as a Word document: title, period, paragraphs, and the headline figures exactly."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    with translation.override("zh-hans"):
        title = title_of(figures, today)
        start, end = _as_date(figures.get("start")), _as_date(figures.get("end"))
        doc = Document()
        normal = doc.styles["Normal"]
        normal.font.size = Pt(12)
        _east_asian(normal.element, BODY_FONT)
        doc.core_properties.title = title
        doc.core_properties.language = "zh-CN"

        head = doc.add_paragraph()
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(head, title, font=TITLE_FONT, size=Pt(18), bold=True)
        if start and end:
            when = doc.add_paragraph()
            when.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(when, _("统计时段：%(start)s至%(end)s") % {
                "start": stats_cn.date_text(start), "end": stats_cn.date_text(end)}, size=Pt(12))

        for text in paragraphs or [_("本时段暂无可写入总结的统计数据。")]:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            p.paragraph_format.line_spacing = 1.5
            _run(p, text)

        rows = headline_rows(figures)
        if rows:
            heading = doc.add_paragraph()
            heading.paragraph_format.space_before = Pt(12)
            _run(heading, _("附：主要数据"), font=TITLE_FONT, bold=True)
            table = doc.add_table(rows=1, cols=2)
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(table.rows[0].cells, (_("指标"), _("数值")), strict=True):
                _run(cell.paragraphs[0], text, bold=True)
            for label, value in rows:
                cells = table.add_row().cells
                _run(cells[0].paragraphs[0], label)
                _run(cells[1].paragraphs[0], value)
                cells[1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()
