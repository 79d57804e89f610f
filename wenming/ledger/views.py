"""Pages of the ledger: a volunteer's own hours, records, points, stars and certificates (phone
pages under /me/), the managers' console (records, a volunteer's ledger, recorded-hours requests
and their approval, corrections), and the public verification of a certificate (/verify/<number>).

Thin faces: reads through queries (scoped), writes through services; a DomainError becomes a
message on the page or its error page, never a 500.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from wenming.core import pii
from wenming.core.errors import DomainError, NotFound
from wenming.core.models import User
from wenming.core.pages import domain_errors, forbidden_page
from wenming.core.scoping import MANAGER_ROLES, can_manage, in_reach
from wenming.people import queries as people_queries
from wenming.people.models import Volunteer

from . import forms, pdf, queries, rules, services
from .models import HoursRequest, ServiceRecord

PAGE_SIZE = 20
CONSOLE_PAGE_SIZE = 50


# --- Helpers -------------------------------------------------------------------------------------


def _error(request, title, message, status, template="core/error.html"):
    return render(request, template, {"title": title, "message": message}, status=status)






def _own_volunteer(user) -> Volunteer | None:
    try:
        return user.volunteer
    except Volunteer.DoesNotExist:
        return None


def volunteer_page(view):
    """A /me/ page: logged in, and the account belongs to a volunteer."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        volunteer = _own_volunteer(request.user)
        if volunteer is None:
            return _error(
                request,
                _("未关联志愿者"),
                _("您的账号没有关联志愿者身份。请先注册成为志愿者，或请所在实践站管理员为您关联账号。"),
                404,
                "ledger/me_error.html",
            )
        try:
            return view(request, volunteer, *args, **kwargs)
        except NotFound:
            return _error(request, _("页面不存在"), _("您访问的内容不存在。"), 404, "ledger/me_error.html")
        except DomainError as exc:
            return _error(request, _("无法完成操作"), exc.message, exc.status, "ledger/me_error.html")

    return wrapper


def _is_manager(user) -> bool:
    return user.is_superuser or user.role in MANAGER_ROLES


def _page(request, qs, size):
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _int(value):
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or 0 < number < 2**63 else None


def verify_url(request, number: str) -> str:
    """The absolute address of a certificate's public verification page (printed and in the QR code).
    WENMING_PUBLIC_URL (e.g. https://wm.example.gov.cn) when set: behind a proxy the request's own
    host may be an internal one."""
    import os

    path = reverse("ledger:verify", args=[number])
    base = getattr(settings, "WENMING_PUBLIC_URL", "") or os.environ.get("WENMING_PUBLIC_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def _pdf_response(request, cert, error_template="core/error.html"):
    try:
        content = pdf.render_certificate(cert, verify_url(request, cert.number))
    except pdf.FontMissing as exc:
        return _error(request, _("暂时无法生成PDF"), exc.message, 503, error_template)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"志愿服务记录证明-{cert.number}.pdf"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{cert.number}.pdf\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _issue(request, volunteer, form):
    """Issue a certificate from a valid PeriodForm; the certificate, or None with the form's errors set."""
    try:
        pdf.find_font()  # no certificate that cannot be printed
        return services.issue_certificate(
            request.user, volunteer, form.cleaned_data["start"], form.cleaned_data["end"]
        )
    except pdf.FontMissing as exc:
        form.add_error(None, exc.message)
    except DomainError as exc:
        forms.add_domain_error(form, exc, forms.PERIOD_ERROR_FIELDS)
    return None


# --- A volunteer's own pages (/me/) --------------------------------------------------------------


@volunteer_page
def me_hours(request, volunteer):
    summary = queries.volunteer_summary(volunteer)
    return render(
        request,
        "ledger/me_hours.html",
        {"v": volunteer, "s": summary, "ladder": queries.star_ladder(summary.total_minutes), "tab": "hours"},
    )


@volunteer_page
def me_records(request, volunteer):
    page = _page(request, queries.volunteer_records(volunteer), PAGE_SIZE)
    return render(request, "ledger/me_records.html", {"v": volunteer, "page": page, "tab": "records"})


@volunteer_page
def me_points(request, volunteer):
    summary = queries.volunteer_summary(volunteer)
    page = _page(request, queries.points_history(volunteer), PAGE_SIZE)
    return render(
        request,
        "ledger/me_points.html",
        {
            "v": volunteer,
            "s": summary,
            "page": page,
            "tab": "points",
            "rate": f"{float(rules.points_per_hour()):g}",
        },
    )


@volunteer_page
def me_stars(request, volunteer):
    summary = queries.volunteer_summary(volunteer)
    return render(
        request,
        "ledger/me_stars.html",
        {"v": volunteer, "s": summary, "ladder": queries.star_ladder(summary.total_minutes), "tab": "stars"},
    )


@volunteer_page
def me_certificates(request, volunteer):
    if request.method == "POST":
        form = forms.PeriodForm(request.POST)
        if form.is_valid():
            cert = _issue(request, volunteer, form)
            if cert is not None:
                messages.success(
                    request, _("证明已出具，编号 %(number)s，请点“下载PDF”保存。") % {"number": cert.number}
                )
                return redirect("ledger:me_certificates")
    else:
        form = forms.PeriodForm(initial=forms.PeriodForm.default_initial())
    page = _page(request, queries.certificates_of(volunteer), PAGE_SIZE)
    return render(
        request,
        "ledger/me_certificates.html",
        {"v": volunteer, "form": form, "page": page, "tab": "certificates"},
    )


@never_cache
@volunteer_page
def me_certificate_pdf(request, volunteer, number):
    cert = queries.certificate_for(request.user, volunteer, number)
    return _pdf_response(request, cert, "ledger/me_error.html")


# --- Console: records, a volunteer's ledger -----------------------------------------------------


@login_required
@domain_errors
def records(request):
    user, params = request.user, request.GET
    if user.role == User.Role.VOLUNTEER and not user.is_superuser:
        return redirect("ledger:me_records")
    qs = queries.records_for(user).select_related("approved_by")
    kind = params.get("kind", "")
    if kind == "verified":
        qs = qs.filter(kind=ServiceRecord.Kind.VERIFIED, adjustment_of__isnull=True)
    elif kind == "recorded":
        qs = qs.filter(kind=ServiceRecord.Kind.RECORDED, adjustment_of__isnull=True)
    elif kind == "adjustment":
        qs = qs.filter(adjustment_of__isnull=False)
    else:
        kind = ""
    text = params.get("q", "").strip()[:50]
    if text:
        qs = qs.filter(
            Q(volunteer__number=text) | Q(volunteer__name__startswith=text) | Q(title__contains=text)
        )
    ctx = {
        "page": _page(request, qs, CONSOLE_PAGE_SIZE),
        "kind": kind,
        "q": text,
        "pending": queries.pending_count(user),
        "is_manager": _is_manager(user),
    }
    return render(request, "ledger/records.html", ctx)


@login_required
@domain_errors
def record_detail(request, pk):
    user = request.user
    record = queries.record_detail_for(user, pk)
    may_correct = can_manage(user, record.node) and record.volunteer.user_id != user.pk
    form = forms.AdjustmentForm(request.POST or None)
    if request.method == "POST":
        if not may_correct:
            return forbidden_page(request, _("您无权更正这条服务记录。"))
        if form.is_valid():
            try:
                req = services.request_adjustment(
                    user, record, minutes=form.cleaned_data["minutes"], reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                forms.add_domain_error(form, exc, forms.ADJUSTMENT_ERROR_FIELDS)
            else:
                messages.success(request, _("更正申请已提交，须由另一名管理员审批后生效。"))
                return redirect("ledger:request", pk=req.pk)
    ctx = {
        "r": record,
        "corrections": queries.corrections_of(record),
        "pending": record.adjustment_requests.filter(status=HoursRequest.Status.PENDING),
        "form": form,
        "may_correct": may_correct,
        "volunteer_in_reach": in_reach(user, record.volunteer.station),
    }
    return render(request, "ledger/record_detail.html", ctx)


@login_required
@domain_errors
def volunteer_ledger(request, pk):
    user = request.user
    volunteer = people_queries.volunteer_detail_for(user, pk)
    may_manage = can_manage(user, volunteer.station)
    form = forms.PeriodForm(initial=forms.PeriodForm.default_initial())
    if request.method == "POST":
        if not may_manage:
            return forbidden_page(request, _("您无权为该志愿者出具证明。"))
        form = forms.PeriodForm(request.POST)
        if form.is_valid():
            cert = _issue(request, volunteer, form)
            if cert is not None:
                messages.success(request, _("证明已出具，编号 %(number)s。") % {"number": cert.number})
                return redirect("ledger:volunteer", pk=volunteer.pk)
    summary = queries.volunteer_summary(volunteer)
    ctx = {
        "v": volunteer,
        "s": summary,
        "ladder": queries.star_ladder(summary.total_minutes),
        "page": _page(
            request,
            queries.volunteer_records(volunteer).select_related("recorded_by", "approved_by"),
            CONSOLE_PAGE_SIZE,
        ),
        "points": queries.points_history(volunteer)[:10],
        "certificates": queries.certificates_of(volunteer)[:20] if may_manage else [],
        "pending": queries.requests_for(user).filter(volunteer=volunteer),
        "form": form,
        "may_manage": may_manage,
        "may_enter": may_manage and volunteer.user_id != user.pk,
    }
    return render(request, "ledger/volunteer_ledger.html", ctx)


@never_cache
@login_required
@domain_errors
def volunteer_certificate_pdf(request, pk, number):
    user = request.user
    volunteer = people_queries.volunteer_detail_for(user, pk)
    if not can_manage(user, volunteer.station):
        raise NotFound("证明不存在。")
    return _pdf_response(request, queries.certificate_for(user, volunteer, number))


# --- Console: recorded-hours and correction requests ------------------------------------------------


STATUS_TABS = [
    ("pending", HoursRequest.Status.PENDING.label),
    ("approved", HoursRequest.Status.APPROVED.label),
    ("rejected", HoursRequest.Status.REJECTED.label),
    ("all", gettext_lazy("全部")),
]


@login_required
@domain_errors
def requests(request):
    user = request.user
    status = request.GET.get("status", "pending")
    if status not in {s for s, _label in STATUS_TABS}:
        status = "pending"
    qs = queries.requests_for(user, None if status == "all" else status)
    ctx = {
        "page": _page(request, qs, CONSOLE_PAGE_SIZE),
        "status": status,
        "tabs": [(s, str(label)) for s, label in STATUS_TABS],
        "may_enter": people_queries.nodes_managed_by(user).exists(),
        "pending": queries.pending_count(user),
    }
    return render(request, "ledger/requests.html", ctx)


@login_required
@domain_errors
def request_new(request):
    user = request.user
    nodes = list(people_queries.nodes_managed_by(user))
    if not nodes:
        return forbidden_page(request, _("您的角色无权录入补录时长。"))
    volunteer = None
    initial = {}
    preset = _int(request.GET.get("volunteer"))
    if preset:
        volunteer = people_queries.volunteer_detail_for(user, preset)
        initial = {"volunteer_number": volunteer.number}
        if any(n.pk == volunteer.station_id for n in nodes):
            initial["node"] = volunteer.station_id
    form = forms.RecordedHoursForm(request.POST or None, initial=initial, nodes=nodes)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        volunteer = people_queries.volunteer_by_number(user, d["volunteer_number"])
        if volunteer is None:
            form.add_error("volunteer_number", _("找不到该编号的志愿者，或其不在您的管辖范围内。"))
        else:
            try:
                req = services.request_recorded_hours(
                    user,
                    volunteer=volunteer,
                    node=d["node"],
                    title=d["title"],
                    window_start=d["window_start"],
                    window_end=d["window_end"],
                    minutes=d["minutes"],
                    reason=d["reason"],
                    place=d["place"],
                    beneficiaries=d["beneficiaries"],
                    responsible_person=d["responsible_person"],
                    content=d["content"],
                )
            except DomainError as exc:
                forms.add_domain_error(form, exc, forms.REQUEST_ERROR_FIELDS)
            else:
                messages.success(request, _("补录申请已提交，须由另一名管理员审批后记入台账。"))
                return redirect("ledger:request", pk=req.pk)
    return render(request, "ledger/request_form.html", {"form": form, "volunteer": volunteer})


@login_required
@domain_errors
def request_detail(request, pk):
    user = request.user
    req = queries.request_detail_for(user, pk)
    ctx = {
        "req": req,
        "may_decide": req.status == HoursRequest.Status.PENDING and can_manage(user, req.node),
        "own_request": req.requested_by_id == user.pk,
        "approve_form": forms.DecisionForm(),
        "reject_form": forms.RejectForm(),
        "volunteer_in_reach": in_reach(user, req.volunteer.station),
    }
    return render(request, "ledger/request_detail.html", ctx)


@login_required
@require_POST
@domain_errors
def request_approve(request, pk):
    user = request.user
    req = queries.request_detail_for(user, pk)
    form = forms.DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        record = services.approve_hours_request(user, req, note=note)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已审批通过：%(title)s，%(hours)s 小时已记入 %(name)s 的台账。")
            % {"title": record.title, "hours": pdf.hours(record.minutes), "name": req.volunteer.name},
        )
    return redirect("ledger:request", pk=req.pk)


@login_required
@require_POST
@domain_errors
def request_reject(request, pk):
    user = request.user
    req = queries.request_detail_for(user, pk)
    form = forms.RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写驳回理由（不超过500字）。"))
        return redirect("ledger:request", pk=req.pk)
    try:
        services.reject_hours_request(user, req, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已驳回该申请。"))
    return redirect("ledger:request", pk=req.pk)


# --- Public: verify a certificate ------------------------------------------------------------------


def verify(request, number=""):
    """Anyone can check a certificate by its number (the QR code on it leads here). No login."""
    number = (number or request.GET.get("number", "")).strip()[:40]
    if not number:
        return render(request, "ledger/verify.html", {"asked": False})
    cert = queries.certificate_by_number(number)
    ctx = {"asked": True, "number": number, "cert": cert}
    status = 200
    if cert is None:
        status = 404
    else:
        snap = cert.snapshot
        id_masked = snap["volunteer"]["id_number_masked"]
        ctx.update(
            intact=services.certificate_is_intact(cert),
            snap=snap,
            name=pii.mask_name(snap["volunteer"]["name"]),
            # The public sees less than the certificate: the last four digits only.
            id_last4="*" * max(len(id_masked) - 4, 0) + id_masked[-4:],
            lines=[
                {
                    **line,
                    "hours": pdf.hours(line["verified"] + line["recorded"]),
                    "kind": pdf.kind_label(line),
                }
                for line in snap["lines"]
            ],
            totals={k: pdf.hours(v) for k, v in snap["totals"].items() if k.endswith("minutes")},
        )
    response = render(request, "ledger/verify.html", ctx, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response
