"""Forms of the ledger's pages: they parse input; the rules live in services.py."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.errors import DomainError

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]

# A service's error code → the form field it concerns (others show above the form).
REQUEST_ERROR_FIELDS = {
    "title_missing": "title",
    "reason_required": "reason",
    "minutes_invalid": "minutes",
    "over_window": "minutes",
    "window_invalid": "window_end",
    "time_missing": "window_start",
    "time_invalid": "window_start",
    "text_invalid": None,
}
ADJUSTMENT_ERROR_FIELDS = {
    "minutes_invalid": "minutes",
    "adjust_below_zero": "minutes",
    "over_window": "minutes",
    "reason_required": "reason",
}
PERIOD_ERROR_FIELDS = {
    "period_missing": "start",
    "period_invalid": "end",
    "period_future": "end",
    "period_too_long": "start",
}


def add_domain_error(form: forms.Form, exc: DomainError, fields: dict[str, str | None]) -> None:
    """Show a service's refusal on the form, on the field it concerns (or above the form)."""
    field = fields.get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


class PeriodForm(forms.Form):
    """The period of a certificate (defaults: this year up to today)."""

    start = forms.DateField(label=_("起始日期"), widget=DATE_WIDGET)
    end = forms.DateField(label=_("截止日期"), widget=DATE_WIDGET)

    @classmethod
    def default_initial(cls) -> dict:
        today = timezone.localdate()
        return {"start": today.replace(month=1, day=1), "end": today}


class RecordedHoursForm(forms.Form):
    """补录: hours for a service without check-in/out, approved later by another manager."""

    volunteer_number = forms.CharField(
        label=_("志愿者编号"),
        max_length=20,
        help_text=_("14位志愿者编号，可在志愿者详情页查到。"),
    )
    node = forms.TypedChoiceField(label=_("记录单位"), coerce=int, empty_value=None)
    title = forms.CharField(label=_("服务名称"), max_length=200)
    window_start = forms.DateTimeField(
        label=_("活动开始时间"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    window_end = forms.DateTimeField(
        label=_("活动结束时间"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    minutes = forms.IntegerField(
        label=_("补录时长（分钟）"),
        min_value=1,
        max_value=10_000_000,
        help_text=_("不能超过活动时长；同一活动的核验时长与补录时长合计也不能超过活动时长。"),
    )
    reason = forms.CharField(
        label=_("补录原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：忘记签退、纸质签到表补录、历史记录迁移。审批人和志愿者都能看到。"),
    )
    place = forms.CharField(label=_("服务地点"), max_length=200, required=False)
    beneficiaries = forms.CharField(label=_("服务对象"), max_length=200, required=False)
    responsible_person = forms.CharField(label=_("负责人"), max_length=50, required=False)
    content = forms.CharField(
        label=_("服务内容"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, nodes=(), **kwargs):
        super().__init__(*args, **kwargs)
        from wenming.people.forms import node_label

        self.nodes = {n.pk: n for n in nodes}
        self.fields["node"].choices = [("", _("请选择"))] + [(n.pk, node_label(n)) for n in nodes]

    def clean_node(self):
        node = self.nodes.get(self.cleaned_data.get("node"))
        if node is None:
            raise forms.ValidationError(_("请选择您管辖范围内的记录单位。"))
        return node

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end <= start:
            self.add_error("window_end", _("活动结束时间须晚于开始时间。"))
        elif start and end and end - start > timedelta(days=366):
            self.add_error("window_end", _("一次服务的时间窗口不能超过一年。"))
        return data


class AdjustmentForm(forms.Form):
    """更正: ± minutes on an approved record, approved by another manager."""

    minutes = forms.IntegerField(
        label=_("更正时长（分钟）"),
        min_value=-10_000_000,
        max_value=10_000_000,
        help_text=_("减少填负数（如 -30），增加填正数；增加的部分记为补录时长。"),
    )
    reason = forms.CharField(label=_("更正原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("审批意见"), max_length=500, required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("驳回理由"), max_length=500)
