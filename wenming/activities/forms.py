"""Forms of the organisers' console pages. They parse shapes and offer only choices within the
user's reach; the rules (times, capacity, who serves whom, permissions) stay in services."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wenming.core.errors import DomainError
from wenming.core.models import OrgNode, Skill, User
from wenming.core.scoping import MANAGER_ROLES, nodes_in_reach, reach_paths, scoped
from wenming.org.models import Platform, Site
from wenming.people.models import Team

from .models import Activity, Brand, Theme
from .services import ActivityData

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DATETIME_INPUTS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

# Which form field a service error code belongs to; codes not listed go to the top of the form.
ACTIVITY_ERROR_FIELDS = {
    "title_missing": "title",
    "title_too_long": "title",
    "description_too_long": "description",
    "time_missing": "starts_at",
    "ends_before_start": "ends_at",
    "too_long": "ends_at",
    "deadline_after_end": "signup_deadline",
    "capacity_invalid": "capacity",
    "capacity_below_confirmed": "capacity",
    "beneficiaries_invalid": "expected_beneficiaries",
    "organiser_missing": "node",
    "team_outside_node": "team",
    "organiser_locked": "node",
    "out_of_scope": "node",
    "serves_invalid": "serves",
    "served_site_missing": "served_site",
    "served_site_invalid": "served_site",
    "served_target_missing": "served_target",
    "starts_in_past": "starts_at",
}


def add_domain_error(form: forms.Form, exc: DomainError, fields: dict[str, str]) -> None:
    """Show a service's refusal on the form, on the field it concerns."""
    field = fields.get(exc.code)
    if field not in form.fields:
        field = None
    form.add_error(field, exc.message)


def node_label(node: OrgNode) -> str:
    return "　" * max(node.depth - 1, 0) + node.name


class NodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return node_label(obj)


class DateTimeLocalField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", DATETIME_INPUTS)
        kwargs["error_messages"] = {"invalid": _("请填写正确的日期和时间，如 2025-03-05 09:00。"),
                                    **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)


def _is_manager(user) -> bool:
    return user.is_superuser or user.role in MANAGER_ROLES


def organiser_nodes(user):
    """The nodes a user may organise activities at: a manager's reach; a team leader none (they pick their team)."""
    if not _is_manager(user):
        return OrgNode.objects.none()
    return nodes_in_reach(user).order_by("path")


def organiser_teams(user):
    qs = Team.objects.select_related("node")
    if _is_manager(user):
        return scoped(qs, user).order_by("node__path", "id")
    if user.role == User.Role.TEAM_LEADER:
        return qs.filter(leader__user=user).order_by("id")
    return qs.none()


def sites_in_reach(user):
    return scoped(Site.objects.select_related("node"), user).order_by("node__path", "id")


def brands_for(user):
    """Brands of nodes in reach and of the nodes above them (a district brand such as 七彩假期 is
    run by stations too)."""
    steplen = OrgNode.steplen
    ancestors = {p[:i] for p in reach_paths(user) for i in range(steplen, len(p), steplen)}
    q = Q(node__path__in=ancestors)
    for path in reach_paths(user):
        q |= Q(node__path__startswith=path)
    qs = Brand.objects.select_related("node")
    return (qs if user.is_superuser else qs.filter(q)).order_by("node__path", "id")


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("活动名称"), max_length=100,
                            error_messages={"required": _("请填写活动名称。")})
    description = forms.CharField(label=_("活动内容"), max_length=5000, required=False, widget=forms.Textarea)
    node = NodeChoiceField(label=_("组织单位"), queryset=OrgNode.objects.none(), required=False,
                           empty_label=_("（选择组织队伍时可不选）"))
    team = forms.ModelChoiceField(label=_("组织队伍"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("（不指定队伍）"))
    platform = forms.ModelChoiceField(label=_("所属平台"), queryset=Platform.objects.all(), required=False,
                                      empty_label=_("（不属于平台）"))
    themes = forms.ModelMultipleChoiceField(label=_("活动主题"), queryset=Theme.objects.all(), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    site = forms.ModelChoiceField(label=_("活动地点（阵地）"), queryset=Site.objects.none(), required=False,
                                  empty_label=_("（不在阵地，填写详细地址）"),
                                  help_text=_("阵地有坐标时，签到须在其签到半径内。"))
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    starts_at = DateTimeLocalField(label=_("开始时间"), error_messages={"required": _("请填写开始时间。")})
    ends_at = DateTimeLocalField(label=_("结束时间"), error_messages={"required": _("请填写结束时间。")})
    signup_deadline = DateTimeLocalField(label=_("报名截止"), required=False,
                                         help_text=_("不填则到活动开始前都可报名。"))
    capacity = forms.IntegerField(label=_("招募人数"), min_value=1,
                                  error_messages={"invalid": _("招募人数须为正整数。"),
                                                  "required": _("请填写招募人数。")})
    skills = forms.ModelMultipleChoiceField(label=_("所需技能"), queryset=Skill.objects.all(), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    require_skills = forms.BooleanField(label=_("仅限具备所需技能之一的志愿者报名"), required=False)
    restrict_to_node = NodeChoiceField(label=_("仅限该组织下的志愿者报名"), queryset=OrgNode.objects.none(),
                                       required=False, empty_label=_("（不限）"))
    allow_walk_ins = forms.BooleanField(label=_("允许未报名者现场扫码签到"), required=False)
    serves = forms.ChoiceField(label=_("服务对象"), choices=Activity.Serves.choices, initial=Activity.Serves.PUBLIC)
    served_target = forms.CharField(label=_("服务的关爱对象"), max_length=100, required=False,
                                    help_text=_("服务对象为“关爱对象”时填写，如：东风社区空巢老人刘某某家"))
    served_site = forms.ModelChoiceField(label=_("服务的敬老院/阵地"), queryset=Site.objects.none(), required=False,
                                         empty_label=_("（请选择）"),
                                         help_text=_("服务对象为“敬老院”或“阵地服务对象”时选择。"))
    expected_beneficiaries = forms.IntegerField(label=_("预计服务人数"), min_value=0, required=False, initial=0,
                                                error_messages={"invalid": _("预计服务人数须为整数。")})
    brand = forms.ModelChoiceField(label=_("项目品牌"), queryset=Brand.objects.none(), required=False,
                                   empty_label=_("（无）"))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        nodes = organiser_nodes(user)
        self.fields["node"].queryset = nodes
        if not self.is_bound and "node" not in self.initial:
            first_two = list(nodes[:2])
            if len(first_two) == 1:  # a station admin's own station, chosen already
                self.initial["node"] = first_two[0].pk
        self.fields["team"].queryset = organiser_teams(user)
        sites = sites_in_reach(user)
        self.fields["site"].queryset = sites
        self.fields["served_site"].queryset = sites
        self.fields["restrict_to_node"].queryset = nodes_in_reach(user).order_by("path")
        self.fields["brand"].queryset = brands_for(user)
        for name in ("starts_at", "ends_at", "signup_deadline"):
            self.fields[name].widget.attrs["max"] = "9999-12-31T23:59"
        self.fields["title"].widget.attrs["autofocus"] = True

    def clean(self):
        data = super().clean()
        for name in ("starts_at", "ends_at", "signup_deadline"):
            value = data.get(name)
            if value is not None and not 2000 <= value.year <= 2100:
                self.add_error(name, _("日期不在合理范围内（2000—2100年）。"))
        return data

    def activity_data(self) -> ActivityData:
        d = self.cleaned_data
        return ActivityData(
            title=d["title"], description=d["description"], starts_at=d["starts_at"], ends_at=d["ends_at"],
            capacity=d["capacity"], node=d["node"], team=d["team"], platform=d["platform"],
            themes=list(d["themes"]), site=d["site"], address=d["address"], signup_deadline=d["signup_deadline"],
            skills=list(d["skills"]), require_skills=d["require_skills"], restrict_to_node=d["restrict_to_node"],
            allow_walk_ins=d["allow_walk_ins"], serves=d["serves"], served_site=d["served_site"],
            served_target=d["served_target"], expected_beneficiaries=d["expected_beneficiaries"] or 0,
            brand=d["brand"], contact_name=d["contact_name"],
        )

    @staticmethod
    def initial_for(activity: Activity) -> dict:
        return {
            "title": activity.title, "description": activity.description, "node": activity.node_id,
            "team": activity.team_id, "platform": activity.platform_id, "themes": list(activity.themes.all()),
            "site": activity.site_id, "address": activity.address, "starts_at": activity.starts_at,
            "ends_at": activity.ends_at, "signup_deadline": activity.signup_deadline,
            "capacity": activity.capacity, "skills": list(activity.skills.all()),
            "require_skills": activity.require_skills, "restrict_to_node": activity.restrict_to_node_id,
            "allow_walk_ins": activity.allow_walk_ins, "serves": activity.serves,
            "served_target": activity.served_target, "served_site": activity.served_site_id,
            "expected_beneficiaries": activity.expected_beneficiaries, "brand": activity.brand_id,
            "contact_name": activity.contact_name,
        }


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写取消原因，报名的志愿者会收到通知。")})


class SettleForm(forms.Form):
    beneficiaries = forms.IntegerField(
        label=_("实际服务人数（受益群众）"), min_value=0, max_value=10_000_000, required=False,
        error_messages={"invalid": _("实际服务人数须为整数。")},
    )


class DecideForm(forms.Form):
    DECISIONS = [("record", _("补录时长（需第二人审批）")), ("none", _("不计时长"))]
    decision = forms.ChoiceField(label=_("处理"), choices=DECISIONS, widget=forms.RadioSelect,
                                 error_messages={"required": _("请选择处理方式。")})
    hours = forms.DecimalField(label=_("补录时长（小时）"), min_value=0, max_value=744, decimal_places=1,
                               max_digits=4, required=False,
                               error_messages={"invalid": _("补录时长须为数字，如 1.5。")})
    reason = forms.CharField(label=_("处理说明"), max_length=500,
                             error_messages={"required": _("请填写处理说明。")})

    def clean(self):
        data = super().clean()
        if data.get("decision") == "record":
            hours = data.get("hours")
            if not hours:
                self.add_error("hours", _("请填写补录时长（大于0）。"))
        return data

    def record_minutes(self) -> int | None:
        d = self.cleaned_data
        if d["decision"] != "record":
            return None
        return int(d["hours"] * 60)


class ThemeForm(forms.Form):
    name = forms.CharField(label=_("主题名称"), max_length=30)
    is_festival = forms.BooleanField(label=_("节日主题（我们的节日）"), required=False)
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, required=False, initial=0)


class BrandForm(forms.Form):
    name = forms.CharField(label=_("品牌名称"), max_length=50)
    node = NodeChoiceField(label=_("所属组织"), queryset=OrgNode.objects.none(), empty_label=_("（请选择）"))
    description = forms.CharField(label=_("简介"), max_length=2000, required=False, widget=forms.Textarea)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = organiser_nodes(user)
