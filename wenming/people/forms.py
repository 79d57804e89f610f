"""Forms of the volunteer and team pages. They check shapes (lengths, formats, choices) with the
platform's validators; the rules (ages, guardians, consent, duplicates, permissions) stay in services."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from wenming.core.errors import DomainError, InvalidInput
from wenming.core.models import OrgNode, Skill
from wenming.core.validators import validate_id_number, validate_phone
from wenming.org.models import Platform

from . import queries, services
from .models import Volunteer

AVAILABILITY_CHOICES = list(services.AVAILABILITY.items())
GUARDIAN_HELP = _("未满18周岁须填写")

# Which form field a service error code belongs to; codes not listed go to the top of the form.
VOLUNTEER_ERROR_FIELDS = {
    "name_missing": "name",
    "name_invalid": "name",
    "phone_format": "phone",
    "station_invalid": "station",
    "political_status_invalid": "political_status",
    "availability_invalid": "availability",
    "consent_missing": "agreement_consent",
    "too_young": "id_number",
    "guardian_required": "guardian_name",
    "skill_invalid": "skills",
}
TEAM_ERROR_FIELDS = {
    "name_invalid": "name",
    "team_name_taken": "name",
    "leader_out_of_node": "leader_number",
}


def add_domain_error(form: forms.Form, exc: DomainError, fields: dict[str, str]) -> None:
    """Show a service's refusal on the form, on the field it concerns."""
    if exc.code == "already_registered":
        form.add_error(None, services.DUPLICATE_MESSAGE)
        return
    field = fields.get(exc.code)
    if field is None and exc.code.startswith("id_number"):
        field = "id_number"
    if field not in form.fields:
        field = None
    form.add_error(field, exc.message)


def _check(validator, value):
    try:
        return validator(value)
    except InvalidInput as exc:
        raise ValidationError(exc.message, code=exc.code)


class GroupedStationField(forms.TypedChoiceField):
    """A station chooser whose options are grouped under their institute (<optgroup>)."""

    def __init__(self, stations, **kwargs):
        self.stations = {s.pk: s for s in stations}
        groups = queries.stations_grouped(stations) if self.stations else []
        choices = [("", _("请选择实践站"))] + [
            (institute or _("其他"), [(s.pk, s.name) for s in members]) for institute, members in groups
        ]
        kwargs.setdefault("error_messages", {"required": _("请选择所属实践站。")})
        if len(self.stations) == 1:  # a station admin's own station, chosen already
            kwargs.setdefault("initial", next(iter(self.stations)))
        super().__init__(choices=choices, coerce=int, empty_value=None, **kwargs)

    def clean(self, value):
        pk = super().clean(value)
        return self.stations.get(pk) if pk is not None else None


class VolunteerForm(forms.Form):
    """Registration of a volunteer (console entry and the public phone page share it)."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(
        label=_("身份证号码"), max_length=30, help_text=_("18位居民身份证号码，末位可为X"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("手机号码"), max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    political_status = forms.ChoiceField(
        label=_("政治面貌"), choices=Volunteer.Political.choices, initial=Volunteer.Political.MASSES
    )
    skills = forms.ModelMultipleChoiceField(
        label=_("技能特长"), queryset=Skill.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    availability = forms.MultipleChoiceField(
        label=_("可服务时间"), choices=AVAILABILITY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=50, required=False, help_text=GUARDIAN_HELP)
    guardian_phone = forms.CharField(
        label=_("监护人手机号码"), max_length=20, required=False, help_text=GUARDIAN_HELP,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    guardian_consent = forms.BooleanField(label=_("监护人已知悉并同意其参加志愿服务"), required=False)
    agreement_consent = forms.BooleanField(label=_("已阅读并同意《志愿服务协议》"), required=False)
    privacy_consent = forms.BooleanField(label=_("已阅读并同意《个人信息保护政策》"), required=False)

    def __init__(self, *args, stations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stations is not None:
            self.fields["station"] = GroupedStationField(stations, label=_("所属实践站"))
            # The station chooser comes right after the name in the page's order.
            self.order_fields(["name", "id_number", "phone", "station"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_id_number(self):
        return _check(validate_id_number, self.cleaned_data["id_number"])

    def clean_phone(self):
        return _check(validate_phone, self.cleaned_data["phone"])

    def clean_guardian_phone(self):
        value = self.cleaned_data["guardian_phone"].strip()
        return _check(validate_phone, value) if value else ""

    def volunteer_data(self, station=None) -> services.VolunteerData:
        d = self.cleaned_data
        return services.VolunteerData(
            name=d["name"], id_number=d["id_number"], phone=d["phone"],
            station=station if station is not None else d.get("station"),
            political_status=d["political_status"], skills=list(d["skills"]),
            availability=list(d["availability"]),
            agreement_consent=d["agreement_consent"], privacy_consent=d["privacy_consent"],
            guardian_name=d["guardian_name"], guardian_phone=d["guardian_phone"],
            guardian_consent=d["guardian_consent"],
        )


class JoinForm(VolunteerForm):
    """The public phone page: the institute first, then one of its stations."""

    institute = forms.ModelChoiceField(
        label=_("所在乡镇（街道）实践所"), queryset=OrgNode.objects.none(), empty_label=_("请选择实践所")
    )
    station = forms.ModelChoiceField(
        label=_("所在村（社区）实践站"), queryset=OrgNode.objects.none(), empty_label=_("请先选择实践所")
    )

    field_order = ["institute", "station", "name", "id_number", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institute"].queryset = queries.public_institutes()
        self.fields["institute"].widget.attrs.update({
            # Choosing an institute loads its stations (htmx); without scripts, submitting does.
            "hx-get": reverse_lazy("people:join_stations"), "hx-target": "#field-station",
            "hx-swap": "outerHTML", "hx-trigger": "change",
        })
        institute = self.chosen_institute()
        station = self.fields["station"]
        station.queryset = queries.public_stations(institute)
        station.empty_label = _("请选择实践站") if institute else _("请先选择实践所")
        station.error_messages.update(
            required=_("请选择所在的实践站。"), invalid_choice=_("请在所选实践所下选择实践站。")
        )
        self.fields["institute"].error_messages["required"] = _("请选择所在的实践所。")

    def chosen_institute(self):
        raw = self.data.get("institute") if self.is_bound else self.initial.get("institute")
        if isinstance(raw, OrgNode):
            return raw
        try:
            return queries.public_institutes().filter(pk=int(raw)).first() if raw else None
        except (TypeError, ValueError):
            return None


class VolunteerEditForm(forms.Form):
    """What may change after registration (name, ID, gender and birth date come from the ID number)."""

    phone = forms.CharField(
        label=_("手机号码"), max_length=20, required=False, help_text=_("留空则不修改"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    political_status = forms.ChoiceField(label=_("政治面貌"), choices=Volunteer.Political.choices)
    skills = forms.ModelMultipleChoiceField(
        label=_("技能特长"), queryset=Skill.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    availability = forms.MultipleChoiceField(
        label=_("可服务时间"), choices=AVAILABILITY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"] = GroupedStationField(stations, label=_("所属实践站"))
        self.order_fields(["phone", "station", "political_status"])

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        return _check(validate_phone, value) if value else None


class TeamForm(forms.Form):
    name = forms.CharField(label=_("队伍名称"), max_length=100)
    platform = forms.ModelChoiceField(
        label=_("所属平台"), queryset=Platform.objects.all(), required=False, empty_label=_("（不属于任何平台）")
    )
    social_org = forms.ModelChoiceField(
        label=_("所属公益组织"), queryset=None, required=False, empty_label=_("（无）")
    )
    leader_number = forms.CharField(
        label=_("队长的志愿者编号"), max_length=20, required=False,
        help_text=_("须是本组织辖区内已注册的志愿者；留空表示暂无队长"),
    )
    skills = forms.ModelMultipleChoiceField(
        label=_("服务专长"), queryset=Skill.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    capacity = forms.IntegerField(label=_("可同时承接需求数"), min_value=0, max_value=10000, initial=5)
    description = forms.CharField(
        label=_("简介"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, user, nodes=None, **kwargs):
        from wenming.core.scoping import scoped
        from wenming.org.models import SocialOrganization

        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["social_org"].queryset = scoped(SocialOrganization.objects.all(), user)
        if nodes is not None:
            self.fields["node"] = forms.TypedChoiceField(
                label=_("所属组织"), coerce=int,
                choices=[("", _("请选择"))] + [(n.pk, node_label(n)) for n in nodes],
                initial=nodes[0].pk if len(nodes) == 1 else None,
                error_messages={"required": _("请选择队伍所属的组织。")},
            )
            self._nodes = {n.pk: n for n in nodes}
            self.order_fields(["node", "name"])

    def clean_node(self):
        return self._nodes.get(self.cleaned_data["node"])

    def clean_leader_number(self):
        number = self.cleaned_data["leader_number"].strip()
        if not number:
            return None
        leader = queries.volunteer_by_number(self.user, number)
        if leader is None:
            raise ValidationError(_("找不到该编号的志愿者，或其不在您的管辖范围内。"))
        return leader

    def team_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"], "platform": d["platform"], "social_org": d["social_org"],
            "leader": d["leader_number"], "description": d["description"], "capacity": d["capacity"],
        }


class MemberForm(forms.Form):
    number = forms.CharField(label=_("志愿者编号"), max_length=20)


def node_label(node: OrgNode) -> str:
    """A node's name indented by its depth, for flat <select>s of the tree."""
    return "\u3000" * (node.depth - 1) + node.name
