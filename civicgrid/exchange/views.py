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
