"""Household visits and information collection (走访、信息采集) in the grid worker
app: my households, a household with its members and visits, and the forms to
record a visit or collect information. The forms do not post themselves: the app's
outbox (static/web/app-outbox.js) keeps what was entered while offline and sends
it to /api/v1/registry/ with an Idempotency-Key when the network returns."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from civicgrid.accounts.models import StaffPost
from civicgrid.core.reveal import can_unmask
from civicgrid.events.views_staff import staff_required
from civicgrid.registry import selectors
from civicgrid.registry.models import (
    HouseKind,
    Relation,
    Residence,
    VisitKind,
)

PAGE_SIZE = 50
RECENT_VISITS = 20


def _registry_user(request: HttpRequest) -> Any:
    if not selectors.may_use_registry(request.user):
        raise PermissionDenied(
            _("Only grid staff and governance centers use the registry.")
        )
    return request.user


@never_cache
@ensure_csrf_cookie
@staff_required
def households(request: HttpRequest) -> HttpResponse:
    user = _registry_user(request)
    params = {k: request.GET.get(k, "") for k in ("q", "group", "due")}
    try:
        rows = selectors.household_list(user, params)
    except ValueError:
        raise Http404(_("No such special group.")) from None
    page, page_rows = selectors.household_page(rows, PAGE_SIZE, request.GET.get("page"))
    grids = [
        post.grid
        for post in StaffPost.objects.filter(user=user, active=True, grid__isnull=False)
        .select_related("grid")
        .order_by("grid__code")
        if post.grid is not None
    ]
    return render(
        request,
        "web/app/households.html",
        {
            "page": page,
            "rows": page_rows,
            "params": params,
            "groups": selectors.group_choices(user),
            "grids": grids,
            "kinds": HouseKind.choices,
            "relations": Relation.choices,
            "residences": Residence.choices,
            "collect_url": reverse("registry-collection-create"),
            "nav": "households",
        },
    )


@never_cache
@ensure_csrf_cookie
@staff_required
def household(request: HttpRequest, pk: int) -> HttpResponse:
    user = _registry_user(request)
    home = selectors.household_visible(user, pk)
    if home is None:
        raise Http404(_("No such household in your regions."))
    members = selectors.member_rows(user, home)
    visits = list(
        home.visits.select_related("worker", "event").order_by("-visited_at", "-id")[
            :RECENT_VISITS
        ]
    )
    return render(
        request,
        "web/app/household.html",
        {
            "home": home,
            "members": members,
            "visits": visits,
            "groups": selectors.group_choices(user),
            "kinds": HouseKind.choices,
            "visit_kinds": VisitKind.choices,
            "relations": Relation.choices,
            "residences": Residence.choices,
            # Unmasked on demand only (with a reason, audited), never in the page:
            # the service worker keeps this page on the phone.
            "can_unmask": can_unmask(user),
            "visit_url": reverse("registry-visit-list"),
            "collect_url": reverse("registry-collection-create"),
            "nav": "households",
        },
    )
