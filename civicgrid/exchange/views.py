"""Pages of the exchange: the cities' monthly reports side by side (higher level)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.core.reports import ImportRejected
from civicgrid.events.views_staff import staff_required
from civicgrid.exchange import bulk as b
from civicgrid.exchange.upward import MONTH, reports_side_by_side
from civicgrid.peace_index.models import IndexKind

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
    """Every kind of bulk data the user may handle: its template, an export of the
    current data in the template's shape, and the upload of a filled file with its
    row report (nothing is written unless every row is good)."""
    user: Any = request.user
    scope = list(user.scope_prefixes)
    allowed = b.kinds_for(user)
    kind = request.GET.get("template") or request.GET.get("export")
    if kind:
        if kind not in b.KINDS:
            raise Http404
        if kind not in allowed:
            raise PermissionDenied
        if "template" in request.GET:
            data, name = b.KINDS[kind].template(), f"{kind}-template.xlsx"
        else:
            options = {o: request.GET.get(o, "") for o in b.KINDS[kind].options}
            try:
                data = b.bulk_export(
                    actor=user, kind=kind, scope=scope, options=options
                )
            except b.BadRequest as exc:
                return HttpResponseBadRequest(str(exc))
            name = f"{kind}-{timezone.localdate():%Y%m%d}.xlsx"
        answer = HttpResponse(data, content_type=b.XLSX)
        answer["Content-Disposition"] = f'attachment; filename="{name}"'
        return answer
    report, done = None, ""
    if request.method == "POST":
        done = request.POST.get("kind", "")
        upload = request.FILES.get("file")
        if done not in b.KINDS:
            raise Http404
        if done not in allowed:
            raise PermissionDenied
        if upload is None:
            return HttpResponseBadRequest(_("Choose a file to upload."))
        options = {o: request.POST.get(o, "") for o in b.KINDS[done].options}
        try:
            report = b.bulk_import(
                actor=user,
                kind=done,
                content=upload.read(),
                file_name=upload.name or "upload.xlsx",
                scope=scope,
                options=options,
            )
        except ImportRejected as exc:
            report = exc.report
    status = 400 if report is not None and not report.ok else 200
    return render(
        request,
        "exchange/bulk.html",
        {
            "kinds": allowed.values(),
            "report": report,
            "done": done,
            "index_kinds": IndexKind.choices,
            "sources": b.count_sources(scope) if "counts" in allowed else [],
        },
        status=status,
    )
