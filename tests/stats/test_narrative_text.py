"""The work summary's text from hand-built figures (no database): the seed-002 wording, zero and
unknown figures left out, paragraphs and punctuation, periods, the sandbox, and the .docx."""

import io
import re
from datetime import date

import docx
import pytest
from django.conf import settings
from docx.oxml.ns import qn

from wenming.core.errors import InvalidInput
from wenming.stats import narrative
from wenming.stats.narrative import check_body, period_text, render_summary, summary_docx, tidy, work_summary

TODAY = date(2026, 5, 20)


def figures(**changes) -> dict:
    """A full summary dict (every key of docs/FIGURES.md) with some figures changed."""
    data = narrative.sample_figures()
    data.update(changes)
    return data


def seed_002() -> dict:
    """Shaped like seed 002: 2,500 needs collected, 2,300 fulfilled, about 4,000 activities and 76,000 served."""
    return figures(
        node={"id": 9, "name": "新蒲新区新时代文明实践中心", "kind": "centre"},
        start=date(2022, 1, 1), end=date(2022, 12, 31),
        activities=4012, people_served=76412, people_served_activities=74112, people_served_needs=2300,
        needs_collected=2500, needs_rejected=0, needs_cancelled=0, needs_fulfilled=2300,
        needs_completion_rate=0.92,
    )


def text_of(paragraphs) -> str:
    return "\n".join(paragraphs)


def test_seed_002_wording():
    text = text_of(work_summary(seed_002(), today=TODAY))
    for phrase in ["收集群众需求2500条", "完成群众心愿2300条", "完成率达90%以上", "4000余场次", "7.6万余人"]:
        assert phrase in text
    assert text.startswith("2022年，新蒲新区新时代文明实践中心")


def test_seed_000_wording():
    got = text_of(work_summary(figures(
        start=date(2020, 1, 1), end=TODAY, activities=2043, participations=16000, people_served=60412,
        media_reports=203, media_district=123, media_city=51, media_province=14, media_central=15,
    ), today=TODAY))
    assert "2020年以来，双清区新时代文明实践中心" in got
    assert "开展新时代文明实践活动2000余场次，参与志愿者达16000人次，受益群众6万余人。" in got
    assert "区级媒体120余篇，市级媒体51篇，省级媒体14篇，中央媒体15篇。" in got


# Each figure, when zero or unknown, takes its clause with it (and only its clause).
CLAUSES = [
    ("activities", 0, "开展新时代文明实践活动"),
    ("participations", 0, "参与志愿者达"),
    ("people_served", 0, "受益群众7.6万余人"),
    ("volunteers", 0, "名志愿者参与志愿服务"),
    ("hours_total", 0.0, "累计服务时长"),
    ("hours_recorded", 0.0, "审批补录"),
    ("hours_verified", 0.0, "签到签退核验"),
    ("new_volunteers", 0, "新注册志愿者"),
    ("active_teams", 0, "支志愿服务队活跃"),
    ("needs_collected", 0, "收集群众需求"),
    ("needs_fulfilled", 0, "完成群众心愿"),
    ("needs_completion_rate", None, "完成率"),
    ("needs_average_rating", None, "群众评价平均"),
    ("media_reports", 0, "宣传报道"),
    ("media_district", 0, "区级媒体"),
    ("media_city", 0, "市级媒体"),
    ("media_province", 0, "省级媒体"),
    ("media_central", 0, "中央媒体"),
    ("by_platform", [], "平台开展活动"),
    ("by_theme", [], "主题活动"),
    ("rank_nodes", [], "位居前列"),
    ("rank_teams_hours", [], "名列前茅"),
]

ZERO_WRITTEN = re.compile(r"(?<![\d.])0(?:\.0)?(?:余)?(?:场|人|条|篇|支|小时|星|%)")


def assert_tidy(paragraphs):
    for p in paragraphs:
        assert p and p[0] not in "，、；：。"
        assert not re.search(r"[，、；：]{2,}|[，、；：][。）]|（[，、；：]|（）|。。", p), p
        assert "None" not in p and "{" not in p and "}" not in p
        assert not ZERO_WRITTEN.search(p), p


@pytest.mark.parametrize(("key", "empty", "phrase"), CLAUSES, ids=[c[0] for c in CLAUSES])
def test_a_zero_or_unknown_figure_is_left_out(key, empty, phrase):
    full = work_summary(figures(), today=TODAY)
    assert phrase in text_of(full)
    without = work_summary(figures(**{key: empty}), today=TODAY)
    assert phrase not in text_of(without)
    assert_tidy(without)
    # Nothing else went: every other paragraph's figures are still there.
    assert len(text_of(without)) > len(text_of(full)) * 0.6


def test_unknown_keys_are_left_out_too():
    """A dict without most keys (the figures unknown) writes only what it has."""
    paragraphs = work_summary({"node": {"name": "东风社区新时代文明实践站", "kind": "station"},
                               "start": date(2026, 3, 1), "end": date(2026, 3, 31), "activities": 12}, today=TODAY)
    assert paragraphs == ["2026年3月，东风社区新时代文明实践站开展新时代文明实践活动12场次。"]


def test_every_clause_of_a_sentence_left_out_drops_the_sentence():
    zeros = narrative._zero_figures(figures())
    assert work_summary(zeros, today=TODAY) == []
    only_needs = dict(zeros, needs_collected=7)
    assert work_summary(only_needs, today=TODAY) == [
        "用活群众点单、中心派单、志愿者接单、群众评单“四单”闭环，2026年，收集群众需求7条。"]
    garbage = dict(zeros, activities="many", volunteers=None, hours_total=float("nan"), people_served=-5,
                   by_platform="x", by_theme=[None, 3, {"name": "无活动", "activities": 0}])
    assert work_summary(garbage, today=TODAY) == []
    assert work_summary({}, today=TODAY) == [] and work_summary(None, today=TODAY) == []


def test_platforms_and_themes_in_prose_best_first_without_empty_ones():
    text = text_of(work_summary(figures(
        by_platform=[{"id": 1, "name": "传文化习礼仪", "activities": 45, "people_served": 0},
                     {"id": 2, "name": "传思想习理论", "activities": 612, "people_served": 20480},
                     {"id": 3, "name": "传法规习行为平台", "activities": 0, "people_served": 0}],
        by_theme=[{"id": 1, "name": "文化惠民", "activities": 3}, {"id": 2, "name": "理论宣讲", "activities": 130}],
    ), today=TODAY))
    assert "灵活运用平台开展活动。传思想习理论平台开展活动610余场次、受益群众2万余人；传文化习礼仪平台开展活动45场次。" in text
    assert "传法规习行为" not in text
    assert "扎实围绕主题开展活动。“理论宣讲”主题活动130场次，“文化惠民”主题活动3场次。" in text
    assert "围绕理论宣讲、文化惠民等工作" in text


@pytest.mark.parametrize(("start", "end", "expected"), [
    (date(2026, 1, 1), date(2026, 12, 31), "2026年"),
    (date(2026, 3, 1), date(2026, 3, 31), "2026年3月"),
    (date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    (date(2026, 3, 1), date(2026, 5, 31), "2026年3月至5月"),
    (date(2025, 11, 1), date(2026, 2, 28), "2025年11月至2026年2月"),
    (date(2020, 1, 1), date(2022, 12, 31), "2020年至2022年"),
    (date(2020, 1, 1), TODAY, "2020年以来"),
    (date(2026, 1, 1), TODAY, "2026年以来"),
    (date(2025, 3, 1), TODAY, "2025年3月以来"),
    (date(2025, 3, 5), TODAY, "2025年3月5日以来"),
    (date(2026, 3, 5), date(2026, 5, 10), "2026年3月5日至5月10日"),
    (date(2025, 3, 5), date(2026, 1, 10), "2025年3月5日至2026年1月10日"),
    (date(2026, 3, 5), date(2026, 3, 5), "2026年3月5日"),
    ("2026-01-01", "2026-12-31", "2026年"),
    (None, date(2026, 1, 1), ""),
    ("garbage", date(2026, 1, 1), ""),
])
def test_period_text(start, end, expected):
    assert period_text(start, end, TODAY) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("开展活动12场次，，受益群众3人。", "开展活动12场次，受益群众3人。"),
    ("开展活动12场次，。", "开展活动12场次。"),
    ("开展活动12场次、，；受益群众3人", "开展活动12场次；受益群众3人"),
    ("，收集群众需求7条，", "收集群众需求7条。"),
    ("累计服务8小时（）。", "累计服务8小时。"),
    ("累计服务8小时（，其中补录1小时）。", "累计服务8小时（其中补录1小时）。"),
    ("先后刊发报道5篇，其中。", "先后刊发报道5篇，其中。"),
    ("。。，", ""),
    ("一、活动开展情况", "一、活动开展情况"),
])
def test_tidy(raw, expected):
    assert tidy(raw) == expected


# --- A district's own wording ---------------------------------------------------------------------


def test_custom_wording_lines_and_paragraphs():
    body = """{% load stats_cn %}
{% if activities %}
  {{ period_text }}，{{ subject }}
  开展活动{{ activities|cn_count }}场次，
{% endif %}
{% if participations %}参与志愿者{{ participations|cn_count }}人次{% endif %}。

{% comment %}
说明：这一段只有在有媒体报道时出现。
{% endcomment %}
{% if media_reports %}
宣传报道{{ media_reports|cn_exact }}篇。
{% endif %}
"""
    summary = render_summary(figures(activities=2043, participations=0, media_reports=203), check_body(body),
                             today=TODAY)
    assert summary.custom and not summary.notice
    assert summary.paragraphs == ["2026年，该中心开展活动2000余场次。", "宣传报道203篇。"]


def test_a_wording_that_fails_falls_back_to_the_default_with_a_notice():
    loops = "{% for a in node.name %}{% for b in node.name %}{% for c in node.name %}x{% endfor %}{% endfor %}{% endfor %}"
    for body in ["{% load something %}", "{% if %}", loops, "{% for x in '" + "a" * 2000 + "' %}{{ x }}{% endfor %}"]:
        summary = render_summary(seed_002(), body, today=TODAY)
        assert not summary.custom
        assert "改用默认措辞" in summary.notice
        assert summary.paragraphs == work_summary(seed_002(), today=TODAY)


@pytest.mark.parametrize(("body", "message"), [
    ("{% load something %}", "不能加载“something”"),
    ("{% load i18n %}{% translate 'x' %}", "不能加载“i18n”"),
    ("{{ settings.SECRET_KEY }}", "不存在的变量：settings.SECRET_KEY"),
    ("{{ request.user.password }}", "不存在的变量"),
    ("{{ node.__class__.__mro__ }}", "下划线"),
    ("{% debug %}", "不支持的标签“debug”"),
    ("{% include 'base.html' %}", "不支持的标签“include”"),
    ("{% extends 'base.html' %}", "不支持的标签“extends”"),
    ("{% url 'core:home' %}", "不支持的标签“url”"),
    ("{% now 'Y' %}", "不支持的标签“now”"),
    ("{{ activities|center:'999999999' }}", "不支持的过滤器“center”"),
    ("{{ activities|add:activities }}", "不支持的过滤器“add”"),
    ("{{ activities|stringformat:'0999999999d' }}", "不支持的过滤器“stringformat”"),
    ("开展活动{{ activities|cn_count }场", "未闭合"),
    ("{% if activities %}开展活动", "第1行"),
    ("第一行\n第二行\n{% if activities %\n", "未闭合"),
    ("第一行\n第二行\n{% endif %}", "第3行"),
    ("{% for a in themes %}{% for b in themes %}{% for c in themes %}{% endfor %}{% endfor %}{% endfor %}", "嵌套"),
    ("{% for x in '" + "a" * 2000 + "' %}{{ x }}{% endfor %}", "循环次数过多"),
    ("", "不能为空"), ("   \n\n ", "不能为空"), (None, "必须是文字"), (12, "必须是文字"),
    ("开展活动\x00", "控制字符"),
    ("{% if activities > 10**100 %}{% endif %}", "语法错误"),
    ("{% if activities %}" * 400 + "深" + "{% endif %}" * 400, "嵌套层数过多"),
    ("x" * (narrative.MAX_BODY + 1), "过长"),
    ("{% if 0 %}只有为0时才写{% endif %}", "没有生成任何文字"),
])
def test_an_unusable_wording_is_refused_with_a_chinese_message(body, message):
    with pytest.raises(InvalidInput) as caught:
        check_body(body)
    assert caught.value.code == "template_invalid"
    assert message in caught.value.message
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message)


def test_hostile_wording_leaks_nothing_even_if_it_got_stored():
    """Rendered directly (as if saved before a rule existed): secrets, settings, request, modules stay out."""
    secret = settings.SECRET_KEY
    bodies = ["{{ settings.SECRET_KEY }}{{ node.name }}", "{% debug %}", "{{ node.items }}{{ node.name }}",
              "{% for k, v in node.items %}{{ k }}={{ v }};{% endfor %}", "{{ request }}{{ user }}{{ csrf_token }}",
              "{{ start.today }}{{ hours_total.hex }}", "{% load something %}{{ node.name }}"]
    for body in bodies:
        summary = render_summary(figures(), body, today=TODAY)
        out = text_of(summary.paragraphs)
        assert secret not in out
        assert "sys.modules" not in out and "<" not in out and "object at" not in out
    # What a template sees is plain, read-only data: objects with behaviour are dropped.
    ctx = narrative.template_context(figures(extra=settings, fn=lambda: secret, by_theme=[object()]), TODAY)
    assert ctx["extra"] is None and ctx["fn"] is None and ctx["by_theme"] == ()
    with pytest.raises(TypeError):
        ctx["node"]["name"] = "x"


def test_the_default_wording_passes_its_own_check():
    assert check_body(narrative.default_body())


# --- The .docx ------------------------------------------------------------------------------------


def test_docx_opens_with_python_docx_and_holds_the_text():
    data = seed_002()
    paragraphs = work_summary(data, today=TODAY)
    raw = summary_docx(data, paragraphs, today=TODAY)
    assert raw[:2] == b"PK"
    doc = docx.Document(io.BytesIO(raw))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "新蒲新区新时代文明实践中心2022年工作总结"
    assert texts[1] == "统计时段：2022年1月1日至2022年12月31日"
    for p in paragraphs:
        assert p in texts
    body = "\n".join(texts)
    for phrase in ["收集群众需求2500条", "完成群众心愿2300条", "完成率达90%以上", "4000余场次", "7.6万余人"]:
        assert phrase in body
    assert doc.core_properties.title == texts[0]
    table = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert table["开展活动（场次）"] == "4012"
    assert table["受益群众（人次）"] == "76412"
    assert table["收集群众需求（条）"] == "2500"
    assert table["需求完成率"] == "92%"
    assert table["服务时长合计（小时）"] == "32000.5"
    # East Asian text in a CJK font: the Normal style and every run.
    normal_fonts = doc.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get(qn("w:eastAsia")) == "宋体"
    runs = [r for p in doc.paragraphs for r in p.runs]
    assert runs and all(r._element.rPr.rFonts.get(qn("w:eastAsia")) in ("宋体", "黑体") for r in runs)


def test_docx_with_nothing_to_say_and_unknown_figures():
    data = narrative._zero_figures(figures())
    doc = docx.Document(io.BytesIO(summary_docx(data, work_summary(data, today=TODAY), today=TODAY)))
    texts = [p.text for p in doc.paragraphs]
    assert "本时段暂无可写入总结的统计数据。" in texts
    table = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert table["开展活动（场次）"] == "0"  # exact figures: a zero is a fact
    assert "需求完成率" not in table and "群众平均评价（星）" not in table  # unknown: left out


def test_docx_filename_is_safe():
    data = figures(node={"id": 1, "name": 'a/b\\c:"d"', "kind": "station"})
    assert narrative.filename_of(data, TODAY) == "a_b_c_d_2026年工作总结.docx"
