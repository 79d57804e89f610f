"""Console forms of the media-reports ledger. They parse and bound the input (lengths, dates,
choices limited to the account's reach); the rules live in `services`, whose refusals are put back
on the field they concern (`add_domain_error`)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.activities.models import Activity, Brand
from wenming.core.errors import DomainError
from wenming.core.models import OrgNode

from . import queries
from .models import MediaReport
from .services import ReportData

KIND_SHORT = {"centre": _("中心"), "institute": _("实践所"), "station": _("实践站")}
ACTIVITY_CHOICES_SHOWN = 200
# Outlets offered as the field is typed (any other may be entered).
COMMON_OUTLETS = ["双清区融媒体中心", "双清发布", "邵阳日报", "邵阳晚报", "邵阳广播电视台", "邵阳新闻网", "湖南日报",
                  "红网", "新湖南", "湖南卫视", "湖南文明网", "新华网", "人民网", "光明网", "中国文明网", "学习强国"]
# Where a service's refusal goes on the form, by its code.
ERROR_FIELDS = {
    "title_required": "title", "title_too_long": "title", "report_duplicate": "title",
    "outlet_required": "outlet", "outlet_too_long": "outlet",
    "level_invalid": "level",
    "published_on_required": "published_on", "published_on_future": "published_on",
    "published_on_too_early": "published_on",
    "url_invalid": "url", "url_too_long": "url",
    "note_too_long": "note",
    "node_required": "node", "out_of_scope": "node",
    "activity_invalid": "activity", "activity_draft": "activity", "activity_outside_node": "activity",
    "brand_invalid": "brand", "brand_outside_node": "brand",
}


class NodeChoiceField(forms.ModelChoiceField):
    """An organisation chooser that shows the tree by indentation."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("— 请选择 —"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return "\u3000" * (obj.depth - 1) + f"{obj.name}（{KIND_SHORT.get(obj.kind, obj.kind)}）"


def activity_label(activity) -> str:
    return f"{timezone.localtime(activity.starts_at):%Y-%m-%d} {activity.title}（{activity.node.name}）"


class ActivityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return activity_label(obj)


class BrandChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.node.name}）"


class ReportForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200,
                            error_messages={"required": _("请填写报道标题。"),
                                            "max_length": _("报道标题不能超过200字。")},
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    outlet = forms.CharField(label=_("刊发媒体"), max_length=100,
                             error_messages={"required": _("请填写刊发媒体。"),
                                             "max_length": _("媒体名称不能超过100字。")},
                             help_text=_("报纸、电视台、网站或新媒体的名称，如“邵阳日报”“新华网”。"),
                             widget=forms.TextInput(attrs={"list": "outlet-list", "autocomplete": "off"}))
    level = forms.ChoiceField(label=_("级别"), choices=MediaReport.Level.choices,
                              error_messages={"required": _("请选择报道级别。"),
                                              "invalid_choice": _("报道级别不在可选范围内。")},
                              help_text=_("按刊发媒体的级别：区级、市级、省级或中央。"))
    published_on = forms.DateField(label=_("刊发日期"), initial=timezone.localdate,
                                   error_messages={"required": _("请填写刊发日期。"),
                                                   "invalid": _("刊发日期格式不正确，请填写如2025-06-01的日期。")},
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    url = forms.CharField(label=_("链接"), max_length=500, required=False,
                          error_messages={"max_length": _("链接不能超过500个字符。")},
                          help_text=_("选填；网络报道的网址，以 http:// 或 https:// 开头。"),
                          widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://"}))
    node = NodeChoiceField(label=_("所属组织"), queryset=OrgNode.objects.none(),
                           error_messages={"required": _("请选择报道所属组织。"),
                                           "invalid_choice": _("所选组织不存在或不在您的管辖范围内。")},
                           help_text=_("报道的是哪个中心、所或站的工作（统计时计入该组织）。"))
    activity = ActivityChoiceField(label=_("相关活动"), queryset=None, required=False,
                                   empty_label=_("（不关联活动）"),
                                   error_messages={"invalid_choice": _("所选活动不存在或不在您的管辖范围内。")})
    brand = BrandChoiceField(label=_("相关品牌"), queryset=None, required=False, empty_label=_("（不关联品牌）"),
                             error_messages={"invalid_choice": _("所选项目品牌不存在或不在您的管辖范围内。")})
    note = forms.CharField(label=_("备注"), max_length=500, required=False,
                           error_messages={"max_length": _("备注不能超过500字。")})

    def __init__(self, *args, user, nodes, current: MediaReport | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["node"].queryset = nodes
        brands = queries.brands_to_link(user)
        activities = queries.linkable_activities(user)
        # The links a report already has may be kept, even if they would no longer be offered.
        if current is not None and current.brand_id:
            brands = brands | Brand.objects.filter(pk=current.brand_id)
        if current is not None and current.activity_id:
            activities = activities | Activity.objects.filter(pk=current.activity_id)
        self.activities = activities
        self.fields["brand"].queryset = brands
        field = self.fields["activity"]
        field.queryset = activities
        # The list shows the latest activities (and the one chosen); the search box above finds others.
        chosen = self._chosen_activity()
        shown = list(queries.activities_to_link(user, limit=ACTIVITY_CHOICES_SHOWN))
        if chosen is not None and all(a.pk != chosen.pk for a in shown):
            shown.insert(0, chosen)
        field.widget.choices = [("", field.empty_label)] + [(a.pk, activity_label(a)) for a in shown]

    def _chosen_activity(self):
        value = self.data.get(self.add_prefix("activity")) if self.is_bound else self.initial.get("activity")
        value = getattr(value, "pk", value)
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None
        if not 0 < pk < 2**63:
            return None
        return self.activities.select_related("node").filter(pk=pk).first()

    def add_domain_error(self, exc: DomainError) -> None:
        field = ERROR_FIELDS.get(exc.code)
        self.add_error(field if field in self.fields else None, exc.message)

    def report_data(self) -> ReportData:
        d = self.cleaned_data
        return ReportData(title=d["title"], outlet=d["outlet"], level=d["level"], published_on=d["published_on"],
                          node=d["node"], url=d.get("url") or "", activity=d.get("activity"),
                          brand=d.get("brand"), note=d.get("note") or "")

    def changes(self) -> dict:
        d = self.report_data()
        return {name: getattr(d, name) for name in ("title", "outlet", "level", "published_on", "url", "node",
                                                    "activity", "brand", "note")}


def initial_of(report: MediaReport) -> dict:
    return {"title": report.title, "outlet": report.outlet, "level": report.level,
            "published_on": report.published_on, "url": report.url, "node": report.node_id,
            "activity": report.activity_id, "brand": report.brand_id, "note": report.note}


class FilterForm(forms.Form):
    q = forms.CharField(label=_("标题 / 媒体"), max_length=50, required=False,
                        error_messages={"max_length": _("关键字不能超过50字。")})
    level = forms.ChoiceField(label=_("级别"), required=False,
                              choices=[("", _("全部级别")), *MediaReport.Level.choices],
                              error_messages={"invalid_choice": _("级别不在可选范围内。")})
    node = NodeChoiceField(label=_("所属组织"), required=False, queryset=OrgNode.objects.none(),
                           empty_label=_("全部组织"),
                           error_messages={"invalid_choice": _("所选组织不存在或不在您的管辖范围内。")})
    year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None,
                                  error_messages={"invalid_choice": _("年度不在可选范围内。")})

    def __init__(self, *args, nodes, years, shown_nodes: int = 300, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["node"]
        field.queryset = nodes
        # A province has thousands of organisations: the list offers the first ones in tree order (a
        # district has about 120) and the one chosen; any organisation in reach is accepted.
        offered = list(nodes[:shown_nodes])
        chosen = str(self.data.get("node") or "")
        if chosen.isdigit() and len(chosen) < 19 and all(str(n.pk) != chosen for n in offered):
            offered += list(nodes.filter(pk=int(chosen)))
        field.widget.choices = [("", field.empty_label)] + [(n.pk, field.label_from_instance(n)) for n in offered]
        self.fields["year"].choices = [("", _("全部年度"))] + [(str(y), _("%(y)d年") % {"y": y}) for y in years]

    def filters(self) -> queries.ReportFilters:
        self.is_valid()  # the fields that are valid narrow the list; the others are shown as errors
        d = getattr(self, "cleaned_data", {})
        return queries.ReportFilters(level=d.get("level") or None, node=d.get("node"), year=d.get("year"),
                                     q=d.get("q") or "")
