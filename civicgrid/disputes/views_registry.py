"""Registry and report pages (mounted at /disputes/): mediation organisations and
the expert pool with each one's record, the statistics of the user's cases, and the
subsidy ledger with its budget and the Excel export."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.core.scope import covers, prefixes_q
from civicgrid.disputes import selectors, subsidies
from civicgrid.disputes.choices import CenterLevel, Channel, DisputeType, Outcome
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import Mediator, Subsidy
from civicgrid.events.views_staff import staff_required


def _labels(choices: Any, counts: dict[str, int]) -> list[tuple[str, int]]:
    names = dict(choices)
    return [(str(names.get(k, k or "—")), n) for k, n in counts.items()]


@staff_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.organisations_visible(request.user).filter(active=True)
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    rows = qs.select_related("region").annotate(n_members=Count("members"))
    return render(
        request,
        "disputes/organisations.html",
        {
            "rows": rows.order_by("region_code", "name"),
            "channels": Channel.choices,
            "channel": channel,
        },
    )


@staff_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organisations_visible(request.user).filter(pk=pk).first()
    if org is None:
        raise Http404(_("No such organisation in your scope."))
    members = selectors.with_load_and_record(org.members.all()).order_by("name")
    cases = selectors.cases_visible(request.user).filter(organisation=org)
    return render(
        request,
        "disputes/organisation.html",
        {
            "org": org,
            "fields": [DisputeType(f).label for f in org.fields],
            "members": [{"m": m, "record": selectors.record_of(m)} for m in members],
            "stats": selectors.case_stats(cases),
            "cases": cases.order_by("-created_at")[:20],
        },
    )


@staff_required
def mediator_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.with_load_and_record(selectors.mediators_visible(request.user))
    kind = request.GET.get("kind", "")
    if kind in Mediator.Kind.values:
        qs = qs.filter(kind=kind)
    specialty = request.GET.get("specialty", "")
    if specialty not in DisputeType.values:
        specialty = ""
    # A JSON list's membership is filtered here (SQLite has no JSON containment).
    pool = [
        m
        for m in qs.order_by("region_code", "name")
        if not specialty or specialty in m.specialties
    ]
    return render(
        request,
        "disputes/mediators.html",
        {
            "rows": [{"m": m, "record": selectors.record_of(m)} for m in pool[:200]],
            "kinds": Mediator.Kind.choices,
            "types": DisputeType.choices,
            "kind": kind,
            "specialty": specialty,
        },
    )


@staff_required
def mediator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    qs = selectors.with_load_and_record(selectors.mediators_visible(request.user))
    m = qs.filter(pk=pk).first()
    if m is None:
        raise Http404(_("No such mediator in your scope."))
    cases = selectors.cases_visible(request.user).filter(mediator=m)
    return render(
        request,
        "disputes/mediator.html",
        {
            "m": m,
            "record": selectors.record_of(m),
            "specialties": [DisputeType(s).label for s in m.specialties],
            "cases": cases.order_by("-created_at")[:50],
            "ratings": selectors.ratings_of(m, request.user),
            "by_outcome": _labels(
                Outcome.choices, selectors.case_stats(cases)["by_outcome"]
            ),
        },
    )


def _day(value: str) -> Any:
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


@staff_required
def stats(request: HttpRequest) -> HttpResponse:
    """The figures of the user's cases (the same selector as the API)."""
    p = request.GET
    qs = selectors.cases_filtered(selectors.cases_visible(request.user), p)
    after, before = _day(p.get("created_after", "")), _day(p.get("created_before", ""))
    if after:
        qs = qs.filter(created_at__date__gte=after)
    if before:
        qs = qs.filter(created_at__date__lte=before)
    digits = p.get("area_digits", "6")
    area = int(digits) if digits in ("4", "6", "9", "12") else 6
    figures = selectors.case_stats(qs, area_digits=area)
    return render(
        request,
        "disputes/stats.html",
        {
            "f": figures,
            "by_type": _labels(DisputeType.choices, figures["by_type"]),
            "by_channel": _labels(Channel.choices, figures["by_channel"]),
            "by_level": _labels(CenterLevel.choices, figures["by_level"]),
            "by_outcome": _labels(
                [("", _("open")), *Outcome.choices], figures["by_outcome"]
            ),
            "success_pct": round(100 * figures["success_rate"])
            if figures["success_rate"] is not None
            else None,
            "params": {
                "region": p.get("region", ""),
                "created_after": after.isoformat() if after else "",
                "created_before": before.isoformat() if before else "",
                "area_digits": str(area),
            },
        },
    )


def _ledger_scope(request: HttpRequest) -> tuple[list[str], str, int]:
    """The areas the user grants subsidies in, the city shown and the year."""
    prefixes = selectors.center_prefixes(request.user)
    if not prefixes:
        raise PermissionDenied
    cities = sorted({p[:4] for p in prefixes if p})
    city = request.GET.get("city") or request.POST.get("city") or ""
    near = any(p.startswith(city) or city.startswith(p) for p in prefixes)
    if not (len(city) == 4 and city.isdigit() and near):
        city = cities[0] if cities else "3703"
    raw = request.GET.get("year") or request.POST.get("year") or ""
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else 0
    return prefixes, city, year or timezone.localdate().year


@staff_required
def ledger(request: HttpRequest) -> HttpResponse:
    prefixes, city, year = _ledger_scope(request)
    rows = Subsidy.objects.filter(prefixes_q(prefixes), city_code=city, year=year)
    budget = subsidies.budget_for(city, year)
    # The budget is the city's: what is used counts every area of the city.
    used = subsidies.committed(city, year)
    mine = rows.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return render(
        request,
        "disputes/ledger.html",
        {
            "rows": rows.select_related("case", "mediator", "grade").order_by(
                "-granted_at"
            ),
            "city": city,
            "year": year,
            "budget": budget,
            "used": used,
            "mine": mine,
            "left": budget - used,
            "used_pct": round(100 * used / budget, 1) if budget else None,
            "may_budget": covers(prefixes, city) and len(city) == 4,
            "grades": subsidies.grades_for(city),
        },
    )


@staff_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    prefixes, city, year = _ledger_scope(request)
    rows = Subsidy.objects.filter(prefixes_q(prefixes), city_code=city, year=year)
    response = HttpResponse(
        subsidies.ledger_xlsx(rows, city_code=city, year=year),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="subsidies-{city}-{year}.xlsx"'
    )
    response["Cache-Control"] = "no-store, private"
    return response


@staff_required
@require_POST
def budget(request: HttpRequest) -> HttpResponse:
    """A city's center or leader sets the year's budget."""
    prefixes, city, year = _ledger_scope(request)
    if not covers(prefixes, city):
        raise PermissionDenied
    try:
        subsidies.budget_set(
            actor=request.user,
            city_code=city,
            year=year,
            amount=request.POST.get("amount", "").strip(),
        )
    except DisputeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Budget saved."))
    return redirect(f"{reverse('disputes:ledger')}?city={city}&year={year}")
