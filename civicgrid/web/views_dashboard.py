"""The leadership dashboard (大屏) at /dashboard/: one wall-screen page with the map
of the area coloured by a chosen measure, live counts refreshed by htmx, trends, top
matters and overdue events by department; clicking the map drills down."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from civicgrid.accounts.models import Role
from civicgrid.events.views_staff import staff_required
from civicgrid.web import dashboard_data as data

# Who sees the figures of a whole area (a grid worker or a department officer does
# not: they are sent to the app or the workbench by a 403 page that says why).
DASHBOARD_ROLES = frozenset({Role.LEADER, Role.CENTER_STAFF})
GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.GRID_SPECIALIST})
LIVE_SECONDS = 15
LIVE_RANGE = range(2, 301)  # a wall screen may ask ?live=N seconds


def dashboard_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """A staff member holding a dashboard role (superusers always), else a 403 page
    in Chinese explaining why and where to go instead."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not (user.is_superuser or user.roles & DASHBOARD_ROLES):
            return render(
                request,
                "web/dashboard_denied.html",
                {"grid_worker": bool(user.roles & GRID_ROLES)},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped


def _live_seconds(request: HttpRequest) -> int:
    value = request.GET.get("live", "")
    return int(value) if value.isdigit() and int(value) in LIVE_RANGE else LIVE_SECONDS


def _area(request: HttpRequest, code: str | None) -> data.Region:
    area = data.area_for(request.user, code) if code else data.start_area(request.user)
    if area is None:
        raise Http404(_("No such area in your scope."))
    return area


@never_cache
@dashboard_required
def page(request: HttpRequest) -> HttpResponse:
    area = _area(request, request.GET.get("area"))
    measure = request.GET.get("measure", "events")
    return render(
        request,
        "web/dashboard.html",
        {
            "area": area,
            "measure": measure if measure in data.MEASURES else "events",
            "figures": data.everything(request.user, area),
            "live_seconds": _live_seconds(request),
        },
    )


@never_cache
@dashboard_required
def figures(request: HttpRequest, code: str) -> JsonResponse:
    """Everything the page draws for one area (the map's drill-down asks it)."""
    area = _area(request, code)
    return JsonResponse(
        data.everything(request.user, area), json_dumps_params={"ensure_ascii": False}
    )


@never_cache
@dashboard_required
def live(request: HttpRequest, code: str) -> HttpResponse:
    """The live counts as an HTML fragment (htmx polls it)."""
    area = _area(request, code)
    now = timezone.now()
    counts = data.live_counts(request.user, area, now)
    return render(
        request,
        "web/dashboard_live.html",
        {"live": counts, "area": area, "live_seconds": _live_seconds(request)},
    )
