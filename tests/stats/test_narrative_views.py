"""The work summary's pages (/stats/summary/): who sees what, the period picker's bad input, the .docx
download, and the wording editor (managers only; invalid wording refused; restore the default;
a lower node inherits its ancestor's wording)."""

import io
from datetime import date

import docx
import pytest
from django.urls import include, path, reverse
from django.utils import timezone

from wenming import urls as root
from wenming.core.errors import Forbidden, InvalidInput
from wenming.core.models import AuditEntry
from wenming.stats import narrative
from wenming.stats.models import SummaryTemplate

# The pages under /stats/summary/ whether or not the project's urls.py mounts them yet.
urlpatterns = [path("stats/summary/", include("wenming.stats.narrative_urls")),
               *[p for p in root.urlpatterns if getattr(p, "namespace", None) != "stats_summary"]]
handler404, handler403, handler500 = root.handler404, root.handler403, root.handler500
pytestmark = pytest.mark.urls(__name__)

PAGE, DOCX, EDIT = "stats_summary:page", "stats_summary:docx", "stats_summary:template"
CUSTOM = "{% if activities %}{{ period_text }}，{{ node.name }}共开展活动{{ activities|cn_exact }}场。{% endif %}自定义结尾。"


def url(name, **params):
    from urllib.parse import urlencode

    return reverse(name) + ("?" + urlencode(params) if params else "")


def page_text(response) -> str:
    return response.content.decode()


class Page:
    """The context the page's own template was rendered with (the test client also records the
    summary's sandboxed template, which has keys of the same names)."""

    def __init__(self, response):
        pages = ("stats/summary.html", "stats/summary_template.html")
        self.context = next(c for t, c in zip(response.templates, response.context, strict=True) if t.name in pages)

    def __getitem__(self, key):
        return self.context[key]


# --- Who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["district_admin", "institute_admin", "station_admin", "department", "viewer",
                                  "team_leader"])
def test_console_roles_see_the_summary_of_their_top_node(module_world, role):
    w = module_world
    response = w.client(role).get(url(PAGE))
    assert response.status_code == 200
    top = {"district_admin": w.C, "institute_admin": w.I1, "station_admin": w.S11, "department": w.C,
           "viewer": w.C, "team_leader": w.S11}[role]
    assert Page(response).context["node"].pk == top.pk
    assert Page(response).context["title"] == f"{top.name}{timezone.localdate().year}年工作总结"
    picker = {n["pk"] for n in Page(response).context["nodes"]}
    assert picker == {w.nodes[k].pk for k in w.REACH[role]}


def test_a_station_admin_sees_their_station_only(module_world):
    w = module_world
    client = w.client("station_admin")
    response = client.get(url(PAGE))
    assert [n["pk"] for n in Page(response).context["nodes"]] == [w.S11.pk]
    assert w.C.name not in page_text(response).split("<main", 1)[1].split("</form>", 1)[0]
    for key in ["C", "I1", "S12", "S21"]:
        assert client.get(url(PAGE, node=w.nodes[key].pk)).status_code == 404
        assert client.get(url(DOCX, node=w.nodes[key].pk)).status_code == 404
        assert client.get(url(EDIT, node=w.nodes[key].pk)).status_code in (403, 404)


def test_an_institute_admin_reaches_their_subtree_only(module_world):
    w = module_world
    client = w.client("institute_admin")
    assert client.get(url(PAGE, node=w.S12.pk)).status_code == 200
    assert client.get(url(PAGE, node=w.S21.pk)).status_code == 404
    assert client.get(url(PAGE, node=w.C.pk)).status_code == 404


@pytest.mark.parametrize("name", [PAGE, DOCX, EDIT])
def test_a_volunteer_gets_403_and_anonymous_logs_in(module_world, name):
    w = module_world
    response = w.client("volunteer").get(url(name))
    assert response.status_code == 403
    assert "数据统计仅向管理和查看人员开放" in page_text(response)
    anonymous = w.client(None).get(url(name))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


@pytest.mark.parametrize("params", [
    {"kind": "custom", "start": "2026-02-30", "end": "2026-03-01"},
    {"kind": "custom", "start": "2026-03-05", "end": "2026-03-01"},
    {"kind": "custom", "start": "1900-01-01", "end": "2026-03-01"},
    {"kind": "custom", "start": "x" * 5000, "end": "2026-03-01"},
    {"kind": "custom", "start": "2026-03-01"},
    {"kind": "since"},
    {"kind": "since", "since": "2999-01-01"},
    {"kind": "decade"},
    {"kind": "<script>alert(1)</script>"},
])
def test_bad_period_input_is_a_chinese_message_never_a_500(module_world, params):
    w = module_world
    client = w.client("district_admin")
    response = client.get(url(PAGE, **params))
    assert response.status_code == 400
    body = page_text(response)
    assert 'class="msg msg-error"' in body and "<script>alert(1)</script>" not in body
    message = Page(response).context["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert client.get(url(DOCX, **params)).status_code == 400
    assert client.get(url(EDIT, **params)).status_code == 400


@pytest.mark.parametrize("node", ["abc", "-1", "0", str(2**70), "1e3", "1 OR 1=1"])
def test_bad_node_input_is_404(module_world, node):
    response = module_world.client("district_admin").get(url(PAGE, node=node))
    assert response.status_code == 404


@pytest.mark.parametrize(("params", "label"), [
    ({"kind": "month"}, "month"), ({"kind": "year"}, "year"), ({}, "year"),
    ({"kind": "since", "since": "2020-01-01"}, "since"),
    ({"kind": "custom", "start": "2025-03-01", "end": "2025-05-31"}, "custom"),
])
def test_the_period_picker(module_world, params, label):
    w = module_world
    response = w.client("district_admin").get(url(PAGE, node=w.C.pk, **params))
    assert response.status_code == 200
    period = Page(response).context["period"]
    assert period.kind == label
    today = timezone.localdate()
    expected = {"month": f"{today.year}年{today.month}月", "year": f"{today.year}年",
                "since": "2020年以来", "custom": "2025年3月至5月"}[label]
    assert Page(response).context["title"] == f"{w.C.name}{expected}工作总结"


def test_an_empty_period_says_so_and_invents_nothing(module_world):
    w = module_world
    response = w.client("district_admin").get(url(PAGE, node=w.C.pk, kind="custom", start="2001-01-01",
                                                  end="2001-12-31"))
    assert response.status_code == 200
    assert Page(response).context["summary"].paragraphs == []
    assert "本时段暂无可写入总结的统计数据" in page_text(response)


# --- The .docx --------------------------------------------------------------------------------------


def test_docx_download(module_world):
    w = module_world
    response = w.client("institute_admin").get(url(DOCX, node=w.I1.pk, kind="custom", start="2025-01-01",
                                                   end="2025-12-31"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "attachment" in response["Content-Disposition"]
    assert "filename*=utf-8''" in response["Content-Disposition"].lower()
    doc = docx.Document(io.BytesIO(response.content))
    assert doc.paragraphs[0].text == f"{w.I1.name}2025年工作总结"
    assert doc.paragraphs[1].text == "统计时段：2025年1月1日至2025年12月31日"
    assert AuditEntry.objects.filter(action="stats.summary_export", actor=w.institute_admin,
                                     object_id=str(w.I1.pk)).exists()


# --- The wording editor -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["department", "viewer", "team_leader"])
def test_only_managers_edit_the_wording(module_world, role):
    w = module_world
    node = w.C if role != "team_leader" else w.S11
    client = w.client(role)
    assert client.get(url(EDIT, node=node.pk)).status_code == 403
    assert client.post(url(EDIT, node=node.pk), {"action": "save", "body": CUSTOM}).status_code == 403
    assert not SummaryTemplate.objects.exists()
    assert "修改措辞" not in page_text(client.get(url(PAGE, node=node.pk)))


def test_a_manager_previews_saves_and_restores_the_default(module_world):
    w = module_world
    client = w.client("district_admin")
    page = client.get(url(PAGE, node=w.C.pk))
    assert "修改措辞" in page_text(page)
    editor = client.get(url(EDIT, node=w.C.pk))
    assert editor.status_code == 200
    assert Page(editor).context["body"] == narrative.default_body()

    preview = client.post(url(EDIT, node=w.C.pk), {"action": "preview", "body": "{{ node.name }}的总结。"})
    assert preview.status_code == 200
    assert Page(preview).context["preview"].paragraphs == [f"{w.C.name}的总结。"]
    assert not SummaryTemplate.objects.exists()

    saved = client.post(url(EDIT, node=w.C.pk), {"action": "save", "body": CUSTOM})
    assert saved.status_code == 302
    row = SummaryTemplate.objects.get(node=w.C)
    assert row.body == CUSTOM and row.updated_by == w.district_admin
    assert AuditEntry.objects.filter(action="stats.summary_template.save", actor=w.district_admin).exists()
    summary = Page(client.get(url(PAGE, node=w.C.pk)))["summary"]
    assert summary.custom and summary.paragraphs == ["自定义结尾。"]

    # The stations and institutes below use the centre's wording too.
    below = w.client("station_admin").get(url(PAGE, node=w.S11.pk))
    assert Page(below).context["summary"].paragraphs == ["自定义结尾。"]
    assert Page(below).context["wording_owner"].pk == w.C.pk

    restored = client.post(url(EDIT, node=w.C.pk), {"action": "restore"})
    assert restored.status_code == 302
    assert not SummaryTemplate.objects.exists()
    assert AuditEntry.objects.filter(action="stats.summary_template.restore_default").exists()
    assert not Page(client.get(url(PAGE, node=w.C.pk)))["summary"].custom


def test_a_lower_node_has_its_own_wording_over_its_ancestors(module_world):
    w = module_world
    narrative.save_template(w.C, "中心的措辞。", by=w.district_admin)
    narrative.save_template(w.I1, "实践所的措辞。", by=w.institute_admin)
    assert narrative.template_for(w.S11).body == "实践所的措辞。"
    assert narrative.template_for(w.S21).body == "中心的措辞。"
    assert narrative.template_for(w.C).body == "中心的措辞。"
    editor = w.client("station_admin").get(url(EDIT, node=w.S11.pk))
    assert editor.status_code == 200
    assert Page(editor).context["inherited"].node_id == w.I1.pk and Page(editor).context["own"] is None
    assert Page(editor).context["body"] == "实践所的措辞。"


@pytest.mark.parametrize(("body", "message"), [
    ("{% load something %}", "不能加载“something”"),
    ("{{ settings.SECRET_KEY }}", "不存在的变量"),
    ("{% if activities %}没有结束", "语法错误"),
    ("", "不能为空"),
    ("x" * 20001, "过长"),
    ("开展活动\x00", "控制字符"),
])
def test_invalid_wording_is_refused_on_the_page_and_nothing_is_stored(module_world, body, message):
    w = module_world
    client = w.client("district_admin")
    for action in ("save", "preview"):
        response = client.post(url(EDIT, node=w.C.pk), {"action": action, "body": body})
        assert response.status_code == 400
        assert message in Page(response).context["error"]
        assert 'class="msg msg-error"' in page_text(response)
    assert not SummaryTemplate.objects.exists()
    with pytest.raises(InvalidInput) as caught:
        narrative.save_template(w.C, body, by=w.district_admin)
    assert caught.value.code == "template_invalid"


def test_unknown_action_and_out_of_reach_writes(module_world):
    w = module_world
    response = w.client("district_admin").post(url(EDIT, node=w.C.pk), {"action": "drop", "body": CUSTOM})
    assert response.status_code == 400 and "未知的操作" in Page(response).context["error"]
    with pytest.raises(Forbidden):
        narrative.save_template(w.C, CUSTOM, by=w.institute_admin)
    with pytest.raises(Forbidden):
        narrative.restore_default(w.S21, by=w.institute_admin)
    with pytest.raises(Forbidden):
        narrative.save_template(w.S11, CUSTOM, by=w.volunteer)
    assert not SummaryTemplate.objects.exists()
    assert narrative.restore_default(w.C, by=w.district_admin) is False


def test_a_stored_wording_that_no_longer_renders_falls_back_with_a_notice(module_world):
    w = module_world
    SummaryTemplate.objects.create(node=w.C, body="{% load something %}{{ node.name }}", updated_by=w.district_admin)
    response = w.client("district_admin").get(url(PAGE, node=w.C.pk, kind="custom", start="2001-01-01",
                                                  end="2001-01-31"))
    assert response.status_code == 200
    assert "改用默认措辞" in Page(response).context["summary"].notice
    assert 'class="msg msg-warning"' in page_text(response)
    assert w.client("district_admin").get(url(DOCX, node=w.C.pk)).status_code == 200


def test_the_editor_escapes_what_it_shows(module_world):
    w = module_world
    body = "<script>alert(1)</script>{{ node.name }}"
    response = w.client("district_admin").post(url(EDIT, node=w.C.pk), {"action": "preview", "body": body})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in page_text(response)
    assert "&lt;script&gt;" in page_text(response)


def test_today_is_the_local_date():
    assert isinstance(timezone.localdate(), date)
