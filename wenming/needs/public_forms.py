"""Forms of the residents' phone pages (/n/). They check shapes — lengths, formats, choices, the
photos' type and size — and hand a NeedData to the services; the rules stay in services.py."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wenming.core.errors import DomainError, InvalidInput
from wenming.core.models import OrgNode
from wenming.core.validators import ascii_form, validate_phone

from . import photos, queries
from .models import Need, NeedCategory
from .services import NeedData

# Which field a service's refusal belongs to; codes not listed go to the top of the form.
ERROR_FIELDS = {
    "category_invalid": "category",
    "station_invalid": "station",
    "description_invalid": "description",
    "contact_invalid": "contact_name",
    "phone_format": "phone",
    "address_invalid": "address",
    "wished_at_invalid": "wished_at",
    "urgency_invalid": "urgency",
    "coordinates_partial": "lat",
    "coordinates_invalid": "lat",
    "photo_invalid": "photos",
    "photo_format": "photos",
    "photo_too_large": "photos",
    "photo_too_many": "photos",
    "photo_empty": "photos",
}

MAX_STATION_CHOICES = 600  # more than this and the chooser lists only what "find my station" matched
STATION_MATCHES = 50


def _required(message):
    return {"required": message}


def _grouped_stations(stations) -> list:
    """[(institute name, [(id, station name), …]), …] in tree order."""
    stations = list(stations)
    institute_paths = {s.path[: 2 * OrgNode.steplen] for s in stations}
    names = dict(OrgNode.objects.filter(path__in=institute_paths).values_list("path", "name"))
    groups: dict[str, list] = {}
    for s in stations:
        institute = names.get(s.path[: 2 * OrgNode.steplen], "") or gettext("其他")
        groups.setdefault(institute, []).append((s.pk, s.name))
    return list(groups.items())


def find_stations(text: str):
    """Stations whose name, institute's name or division code matches what the resident typed."""
    text = ascii_form(text).strip()[:30]
    stations = OrgNode.objects.filter(kind=OrgNode.Kind.STATION)
    if not text:
        return stations.none()
    if text.isdigit():
        return stations.filter(division_code__startswith=text).order_by("path")[:STATION_MATCHES]
    institutes = OrgNode.objects.filter(kind=OrgNode.Kind.INSTITUTE, name__contains=text) \
        .values_list("path", flat=True)
    q = Q(name__contains=text)
    for path in institutes[:20]:
        q |= Q(path__startswith=path)
    return stations.filter(q).order_by("path")[:STATION_MATCHES]


class GroupedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField validated against its queryset but shown as a grouped <select> (optgroups)."""

    def set_groups(self, groups, empty_label):
        self.widget.choices = [("", empty_label), *groups]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS JPEG/PNG files, each cleaned (checked and re-encoded) by photos.clean_photo."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > photos.MAX_PHOTOS:
            raise ValidationError(gettext("最多上传%(n)s张照片。") % {"n": photos.MAX_PHOTOS}, code="photo_too_many")
        return [super(PhotosField, self).clean(f, initial) for f in files]


class NeedForm(forms.Form):
    """群众点单: what a resident gives (the offer, when booking one, fixes the category)."""

    station = GroupedModelChoiceField(
        label=_("所在村（社区）实践站"), queryset=OrgNode.objects.filter(kind=OrgNode.Kind.STATION),
        error_messages={"required": _("请选择您所在的实践站。"),
                        "invalid_choice": _("请从列表中选择实践站（可先输入社区名称查找）。")},
    )
    find = forms.CharField(label=_("查找我的实践站"), required=False, max_length=30,
                           widget=forms.TextInput(attrs={"placeholder": _("输入社区/村名称或区划代码"),
                                                         "enterkeyhint": "search", "autocomplete": "off"}))
    category = GroupedModelChoiceField(
        label=_("需求类别"), queryset=NeedCategory.objects.none(),
        error_messages={"required": _("请选择需求类别。"), "invalid_choice": _("请从列表中选择需求类别。")},
    )
    description = forms.CharField(
        label=_("需求描述"), max_length=1000, min_length=5,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("请写清需要什么帮助、为谁、有什么特别情况")}),
        error_messages={"required": _("请填写需求描述。"),
                        "min_length": _("请把需求描述写清楚一些（至少5个字）。"),
                        "max_length": _("需求描述不能超过%(limit_value)d个字（现有%(show_value)d个字）。")},
    )
    wished_at = forms.DateTimeField(
        label=_("期望服务时间"), required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("选填，半年之内"), error_messages={"invalid": _("请选择正确的日期和时间。")},
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Need.Urgency.choices, initial=Need.Urgency.NORMAL,
                                widget=forms.RadioSelect,
                                error_messages={"required": _("请选择紧急程度。"),
                                                "invalid_choice": _("请选择紧急程度。")})
    photos = PhotosField(
        label=_("照片"), required=False,
        help_text=_("选填，最多3张，JPG或PNG，每张不超过5MB"),
        error_messages={"empty": _("照片文件是空的，请重新选择。"), "invalid": _("无法读取照片，请重新选择。")},
    )
    contact_name = forms.CharField(
        label=_("联系人"), max_length=50, error_messages={
            "required": _("请填写联系人姓名。"),
            "max_length": _("联系人姓名不能超过%(limit_value)d个字。")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("手机号码"), max_length=20, error_messages={"required": _("请填写手机号码。"),
                                                       "max_length": _("手机号码须为11位。")},
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("查询进度时需要手机号后4位"),
    )
    address = forms.CharField(
        label=_("服务地址"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address", "placeholder": _("如：东风路12号3栋2单元")}),
        help_text=_("需要上门服务时请填写"),
        error_messages={"max_length": _("服务地址不能超过%(limit_value)d个字。")},
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput,
                           error_messages={"invalid": _("位置信息无效，请重新获取或清除。"),
                                           "min_value": _("位置信息无效，请重新获取或清除。"),
                                           "max_value": _("位置信息无效，请重新获取或清除。")})
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput,
                           error_messages={"invalid": _("位置信息无效，请重新获取或清除。"),
                                           "min_value": _("位置信息无效，请重新获取或清除。"),
                                           "max_value": _("位置信息无效，请重新获取或清除。")})
    is_wish = forms.BooleanField(
        label=_("这是一个微心愿：在心愿墙上展示，由志愿服务队认领（不显示我的姓名、电话和地址）"), required=False,
    )

    def __init__(self, *args, offer=None, station_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.station_text = (station_text or "").strip()[:30]
        self._set_station_choices()
        if offer is not None:  # a booked service fixes the category (and is not a wish)
            del self.fields["category"], self.fields["is_wish"]
        else:
            self._set_category_choices()

    # --- choices

    def _set_station_choices(self):
        field = self.fields["station"]
        chosen = self._chosen_station()
        self.station_matches = None
        self.too_many_stations = False
        if self.station_text:
            matches = list(find_stations(self.station_text))
            self.station_matches = len(matches)
            if chosen is not None and chosen.pk not in {s.pk for s in matches}:
                matches.insert(0, chosen)
            stations = matches
        else:
            all_stations = field.queryset.order_by("path")
            self.too_many_stations = all_stations.count() > MAX_STATION_CHOICES
            stations = [chosen] if (self.too_many_stations and chosen) else (
                [] if self.too_many_stations else all_stations)
        field.set_groups(_grouped_stations(stations), gettext("请选择实践站"))

    def _chosen_station(self):
        raw = self.data.get("station") if self.is_bound else self.initial.get("station")
        if isinstance(raw, OrgNode):
            return raw
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            return None
        if not 0 < pk < 2**63:
            return None
        return OrgNode.objects.filter(pk=pk, kind=OrgNode.Kind.STATION).first()

    def _set_category_choices(self):
        field = self.fields["category"]
        groups, leaves = [], []
        for parent, children in queries.categories():
            if children:
                groups.append((parent.name, [(c.pk, c.name) for c in children]))
                leaves += [c.pk for c in children]
            else:
                groups.append((parent.name, [(parent.pk, parent.name)]))
                leaves.append(parent.pk)
        field.queryset = NeedCategory.objects.filter(pk__in=leaves, active=True)
        field.set_groups(groups, gettext("请选择需求类别"))

    # --- cleaning

    def clean_contact_name(self):
        return self.cleaned_data["contact_name"].strip()

    def clean_description(self):
        return self.cleaned_data["description"].strip()

    def clean_phone(self):
        try:
            return validate_phone(self.cleaned_data["phone"])
        except InvalidInput as exc:
            raise ValidationError(exc.message, code=exc.code)

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lng") is None) and "lat" not in self.errors:
            self.add_error("lat", gettext("位置信息不完整，请重新获取或清除。"))
        # Photos are decoded only once everything else is right (decoding is the costly part).
        files = data.get("photos") or []
        if files and not self.errors:
            cleaned = []
            for n, f in enumerate(files, 1):
                try:
                    cleaned.append(self._clean_photo(f))
                except InvalidInput as exc:
                    self.add_error("photos", gettext("第%(n)s张：%(why)s") % {"n": n, "why": exc.message})
            data["photos"] = cleaned
        return data

    @staticmethod
    def _clean_photo(upload) -> bytes:
        if upload.size > photos.MAX_BYTES:  # refused before reading it
            raise InvalidInput(gettext("照片不能超过%(mb)sMB。") % {"mb": photos.MAX_BYTES // 1024 // 1024},
                               code="photo_too_large")
        upload.seek(0)
        data, _w, _h = photos.clean_photo(upload.read(photos.MAX_BYTES + 1))
        return data

    def add_domain_error(self, exc: DomainError) -> None:
        field = ERROR_FIELDS.get(exc.code)
        if field not in self.fields:
            field = None
        self.add_error(field, exc.message)

    def need_data(self) -> NeedData:
        d = self.cleaned_data
        return NeedData(
            category=self.offer.category if self.offer is not None else d["category"],
            description=d["description"], station=d["station"], address=d.get("address", "").strip(),
            lat=d.get("lat"), lng=d.get("lng"), contact_name=d["contact_name"], phone=d["phone"],
            wished_at=d.get("wished_at"), urgency=d["urgency"], is_wish=bool(d.get("is_wish")),
            offer=self.offer, photos=list(d.get("photos") or []),
        )


CODE_RE = re.compile(r"[0-9A-Z]{4,12}")


def normal_code(value: str) -> str:
    """A tracking code as typed (spaces, dashes, lower case, full-width letters) in its stored form."""
    return re.sub(r"[\s\-]", "", ascii_form(value or "")).upper()[:20]


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("查询码"), max_length=20, error_messages={"required": _("请填写查询码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false", "placeholder": _("8位字母和数字")}),
    )
    last4 = forms.CharField(
        label=_("手机号后4位"), max_length=8, error_messages={"required": _("请填写手机号后4位。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "4",
                                      "pattern": "[0-9]*"}),
    )

    def clean_code(self):
        code = normal_code(self.cleaned_data["code"])
        if not CODE_RE.fullmatch(code):
            raise ValidationError(gettext("查询码由8位字母和数字组成，请核对。"), code="code_format")
        return code

    def clean_last4(self):
        last4 = ascii_form(self.cleaned_data["last4"]).strip()
        if not re.fullmatch(r"[0-9]{4}", last4):
            raise ValidationError(gettext("请填写手机号的后4位数字。"), code="last4_format")
        return last4


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"), max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：问题已解决、时间不合适")}),
        error_messages={"required": _("请填写取消原因。"), "max_length": _("取消原因不能超过%(limit_value)d个字。")},
    )

    def add_domain_error(self, exc: DomainError) -> None:
        self.add_error("reason" if exc.code == "reason_required" else None, exc.message)


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("评价"), choices=[(n, str(n)) for n in range(5, 0, -1)], coerce=int, widget=forms.RadioSelect,
        error_messages={"required": _("请选择1到5星。"), "invalid_choice": _("请选择1到5星。")},
    )
    comment = forms.CharField(
        label=_("评价内容"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("选填：说说服务怎么样")}),
        error_messages={"max_length": _("评价内容不能超过%(limit_value)d个字。")},
    )

    def add_domain_error(self, exc: DomainError) -> None:
        field = {"stars_invalid": "stars", "comment_invalid": "comment"}.get(exc.code)
        self.add_error(field, exc.message)
