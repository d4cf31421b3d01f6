"""Pages of the exchange: the cities' monthly reports side by side (higher level)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from civicgrid.events.views_staff import staff_required
from civicgrid.exchange.upward import MONTH, reports_side_by_side

# (label, path into the report) of each row of the comparison table.
ROWS: list[tuple[Any, tuple[str, ...]]] = [
    (gettext_lazy("Peace index: security value"), ("peace_index", "peace", "security")),
    (gettext_lazy("Peace index: cases"), ("peace_index", "peace", "cases")),
    (gettext_lazy("Events reported"), ("events", "reported")),
    (gettext_lazy("Events closed"), ("events", "closed")),
    (gettext_lazy("Closure rate"), ("events", "closure_rate")),
    (gettext_lazy("Steps on time"), ("events", "on_time_rate")),
    (gettext_lazy("Open past deadline"), ("events", "overdue_open")),
    (gettext_lazy("Disputes registered"), ("disputes", "cases")),
    (gettext_lazy("Mediation success rate"), ("disputes", "success_rate")),
    (gettext_lazy("High-risk disputes"), ("disputes", "high_risk")),
]


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


@staff_required
def cities(request: HttpRequest) -> HttpResponse:
    month = request.GET.get("month", "")
    if not MONTH.match(month):
        month = f"{timezone.localdate():%Y-%m}"
    reports = reports_side_by_side(request.user, month)
    rows = [
        (str(label), [_dig(r.payload, path) for r in reports]) for label, path in ROWS
    ]
    return render(
        request,
        "exchange/cities.html",
        {"month": month, "reports": reports, "rows": rows},
    )


@staff_required
def bulk(request: HttpRequest) -> HttpResponse:
    """Templates to download and the upload of a filled one, with its row report."""
    from django.http import Http404

    from civicgrid.core.reports import ImportRejected
    from civicgrid.exchange import bulk as b

    kind = request.GET.get("template")
    if kind:
        if kind not in b.SHEETS:
            raise Http404
        answer = HttpResponse(b.template(b.SHEETS[kind]), content_type=b.XLSX)
        answer["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
        return answer
    report = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        upload = request.FILES.get("file")
        if kind in b.SHEETS and upload is not None:
            try:
                report = b.bulk_import(
                    actor=request.user,
                    kind=kind,
                    content=upload.read(),
                    file_name=upload.name or "upload.xlsx",
                    scope=list(request.user.scope_prefixes),  # type: ignore[union-attr]
                )
            except ImportRejected as exc:
                report = exc.report
    status = 400 if report is not None and not report.ok else 200
    return render(
        request,
        "exchange/bulk.html",
        {"sheets": b.SHEETS.values(), "report": report},
        status=status,
    )
