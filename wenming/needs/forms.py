"""Console forms of the need loop (the residents' forms are in public_forms.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.core.errors import DomainError

# Where a service's refusal goes on a form, by its code.
ERROR_FIELDS = {
    "reason_required": "reason", "report_missing": "report", "people_served_invalid": "people_served",
    "stars_invalid": "stars", "comment_invalid": "comment", "hours_invalid": None, "hours_not_member": None,
}


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    field = ERROR_FIELDS.get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             error_messages={"required": _("请填写原因。")})


class ReviewForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("审核结果"), choices=[("1", _("通过")), ("0", _("驳回"))], coerce=lambda v: v == "1")
    reason = forms.CharField(label=_("审核意见 / 驳回原因"), max_length=200, required=False,
                             help_text=_("驳回时必填，群众会看到原因和驳回的组织。"))


class CompleteForm(forms.Form):
    report = forms.CharField(label=_("服务报告"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                             error_messages={"required": _("请填写服务报告。")})
    people_served = forms.IntegerField(label=_("服务群众人数"), min_value=0, max_value=100_000, required=False)
    photos = forms.FileField(label=_("服务照片"), required=False,
                             help_text=_("JPG 或 PNG，最多3张，每张不超过5MB。"),
                             widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}))

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        for v in self.members:
            self.fields[f"hours_{v.pk}"] = forms.DecimalField(
                label=v.name, required=False, min_value=0, max_value=24, decimal_places=1,
                widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal", "style": "width:6rem"}),
            )

    def hour_fields(self):
        return [self[f"hours_{v.pk}"] for v in self.members]

    def reported(self) -> list[tuple]:
        return [(v, self.cleaned_data[f"hours_{v.pk}"]) for v in self.members if self.cleaned_data.get(f"hours_{v.pk}")]


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(label=_("评价"), choices=[(str(i), f"{i}★") for i in range(5, 0, -1)], coerce=int,
                                   widget=forms.RadioSelect, error_messages={"required": _("请选择星级。")})
    comment = forms.CharField(label=_("评价内容"), max_length=500, required=False)


class OfferForm(forms.Form):
    team = forms.ModelChoiceField(label=_("服务队伍"), queryset=None, error_messages={"required": _("请选择队伍。")})
    category = forms.ModelChoiceField(label=_("类别"), queryset=None, error_messages={"required": _("请选择类别。")})
    title = forms.CharField(label=_("服务名称"), max_length=50, error_messages={"required": _("请填写服务名称。")})
    schedule = forms.CharField(label=_("服务时间"), max_length=100, required=False, help_text=_("如：每周六上午"))
    description = forms.CharField(label=_("服务内容"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(label=_("上架（群众可在服务清单中预约）"), required=False, initial=True)

    def __init__(self, *args, teams, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["category"].queryset = categories


def proxy_need_form(user, *args, **kwargs):
    """The residents' form (public_forms.NeedForm) for a station admin entering a need on someone's
    behalf (帮办): the stations are those in the account's reach."""
    from wenming.core.scoping import nodes_in_reach

    from .public_forms import NeedForm

    class ProxyNeedForm(NeedForm):
        def _set_station_choices(self):
            self.fields["station"].queryset = nodes_in_reach(user, kind="station")
            super()._set_station_choices()

    form = ProxyNeedForm(*args, **kwargs)
    form.fields["is_wish"].label = _("微心愿（在心愿墙上展示，不显示姓名、电话和地址）")
    return form
