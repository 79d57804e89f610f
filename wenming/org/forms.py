"""Console forms of the organisation pages. They parse and bound the input (lengths, numbers,
dates, choices limited to the user's reach); the rules live in the services, whose domain errors
are put back on the form (`add_domain_error`)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.errors import DomainError
from wenming.core.models import Department, OrgNode

from .models import ContactPoint, Site

KIND_SHORT = {"centre": _("中心"), "institute": _("实践所"), "station": _("实践站")}


class NodeChoiceField(forms.ModelChoiceField):
    """A node chooser that shows the tree by indentation."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("— 请选择 —"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return "\u3000" * (obj.depth - 1) + f"{obj.name}（{KIND_SHORT.get(obj.kind, obj.kind)}）"


class ServiceForm(forms.Form):
    """A form whose service's domain errors land on the field they concern."""

    # Error code (or code prefix ending in "_") → field name.
    error_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_domain_error(self, exc: DomainError) -> None:
        field = None
        for code, name in self.error_fields.items():
            if exc.code == code or (code.endswith("_") and exc.code.startswith(code)):
                field = name
                break
        self.add_error(field if field in self.fields else None, exc.message)


def _lat():
    return forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90,
                            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))


def _lng():
    return forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180,
                            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))


COORDINATE_ERRORS = {"coordinates_": "lat"}


class NodeForm(ServiceForm):
    name = forms.CharField(label=_("名称"), max_length=100)
    division_code = forms.CharField(
        label=_("区划代码"), max_length=12, min_length=12,
        help_text=_("12位统计用区划代码：乡镇（街道）末3位为000，村（社区）在上级代码之下。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": r"\d{12}", "autocomplete": "off"}),
    )
    secretary = forms.CharField(label=_("负责书记"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"type": "tel"}))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lat = _lat()
    lng = _lng()
    is_demonstration = forms.BooleanField(label=_("示范点"), required=False)

    error_fields = {"division_code_": "division_code", "name_invalid": "name", **COORDINATE_ERRORS}

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["division_code"]  # a node's division code does not change


class SiteForm(ServiceForm):
    node = NodeChoiceField(label=_("所属组织"), queryset=OrgNode.objects.none())
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Site.Kind.choices)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lat = _lat()
    lng = _lng()
    radius_m = forms.IntegerField(label=_("签到半径（米）"), min_value=10, max_value=5000, initial=300,
                                  help_text=_("志愿者须在此范围内签到、签退（10至5000米）。"))

    error_fields = {"name_invalid": "name", "site_name_taken": "name", "site_kind_invalid": "kind",
                    "radius_invalid": "radius_m", "out_of_scope": "node", **COORDINATE_ERRORS}

    def __init__(self, *args, nodes=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["node"]  # a site stays with its node
        else:
            self.fields["node"].queryset = nodes if nodes is not None else OrgNode.objects.none()


class SiteFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部类型")), *Site.Kind.choices])
    node = NodeChoiceField(label=_("所属组织"), required=False, queryset=OrgNode.objects.none(),
                           empty_label=_("全部组织"))

    def __init__(self, *args, nodes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes if nodes is not None else OrgNode.objects.none()


class PlatformForm(ServiceForm):
    name = forms.CharField(label=_("平台名称"), max_length=50)
    lead_department = forms.ModelChoiceField(label=_("牵头部门"), queryset=Department.objects.order_by("id"))
    description = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea)

    error_fields = {"name_invalid": "name", "platform_name_taken": "name", "description_invalid": "description"}


class DepartmentForm(ServiceForm):
    name = forms.CharField(label=_("部门名称"), max_length=100)
    contact = forms.CharField(label=_("联系人"), max_length=50, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel"}))

    error_fields = {"name_invalid": "name", "department_name_taken": "name", "contact_invalid": "contact",
                    "phone_invalid": "phone"}


class SocialOrgForm(ServiceForm):
    node = NodeChoiceField(label=_("所属组织"), queryset=OrgNode.objects.none())
    name = forms.CharField(label=_("组织名称"), max_length=100)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18,
                                  help_text=_("18位，含校验位。"),
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    contact = forms.CharField(label=_("联系人"), max_length=50, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel"}))

    error_fields = {"name_invalid": "name", "uscc_invalid": "credit_code", "credit_code_taken": "credit_code",
                    "contact_invalid": "contact", "phone_invalid": "phone", "out_of_scope": "node"}

    def __init__(self, *args, nodes=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["node"]
        else:
            self.fields["node"].queryset = nodes if nodes is not None else OrgNode.objects.none()


class ContactPointForm(ServiceForm):
    kind = forms.ChoiceField(label=_("类型"), choices=ContactPoint.Kind.choices)
    node = NodeChoiceField(label=_("联系点"), queryset=OrgNode.objects.none(),
                           help_text=_("区级领导联系乡镇（街道）实践所；文明单位联系村（社区）示范实践站。"))
    party = forms.CharField(label=_("联系领导/文明单位"), max_length=100)
    party_title = forms.CharField(label=_("职务"), max_length=100, required=False)
    frequency_days = forms.IntegerField(label=_("指导频次（天）"), min_value=1, max_value=366, initial=30,
                                        help_text=_("每隔多少天应至少指导一次。"))
    started_on = forms.DateField(label=_("建立日期"), initial=timezone.localdate,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    error_fields = {"contact_point_level": "node", "contact_point_kind": "kind", "party_invalid": "party",
                    "party_title_invalid": "party_title", "frequency_invalid": "frequency_days",
                    "out_of_scope": "node"}

    def __init__(self, *args, nodes=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("kind", "node", "started_on"):
                del self.fields[name]
        else:
            self.fields["node"].queryset = nodes if nodes is not None else OrgNode.objects.none()


class VisitForm(ServiceForm):
    visited_on = forms.DateField(label=_("指导日期"), initial=timezone.localdate,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    summary = forms.CharField(label=_("指导内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))

    error_fields = {"summary_": "summary", "visit_": "visited_on"}
