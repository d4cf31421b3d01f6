"""The grid worker app (网格通): an installable web app at /app/ — my grid on a map,
my tasks, and reports with GPS position and photos that wait on the phone while
there is no network and are sent once, with an idempotency key, when it returns."""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from shapely.geometry import mapping

from civicgrid.accounts.models import StaffPost
from civicgrid.events import engine, selectors
from civicgrid.events.models import Event
from civicgrid.events.views_staff import deadline_status, mine_ids, staff_required
from civicgrid.registry.selectors import may_use_registry

TASKS_SHOWN = 30
# Bump when the cached shell must be replaced on every phone.
SHELL_VERSION = "5"
SHELL_ASSETS = (
    "web/app.css",
    "web/app-outbox.js",
    "web/app.js",
    "web/app-registry.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "web/app-icon.svg",
)


def _my_grids(user: Any) -> dict[str, Any]:
    features = []
    posts = StaffPost.objects.filter(
        user=user, active=True, grid__isnull=False
    ).select_related("grid")
    for post in posts:
        grid = post.grid
        if grid is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"name": grid.name, "code": grid.code},
                "geometry": mapping(grid.geometry),
            }
        )
    return {"type": "FeatureCollection", "features": features}


@never_cache
@ensure_csrf_cookie
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = selectors.events_visible(user)
    ids = mine_ids(user, visible)[:TASKS_SHOWN]
    tasks = [
        {
            "event": e,
            "state_label": engine.definition_of(e).label(e.state),
            "deadline_status": deadline_status(e),
        }
        for e in Event.objects.filter(pk__in=ids)
        .select_related("matter")
        .order_by("deadline_at", "id")
    ]
    return render(
        request,
        "web/app/home.html",
        {
            "tasks": tasks,
            "grids": _my_grids(user),
            "api_url": reverse("event-list"),
            "nav": "home",
        },
    )


def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: installable, opens full screen on /app/."""
    body = {
        "name": _("CivicGrid grid worker app"),
        "short_name": _("Grid app"),
        "lang": "zh-CN",
        "start_url": reverse("app:home"),
        "scope": reverse("app:home"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b71c1c",
        "icons": [
            {
                "src": static("web/app-icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            }
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /app/ so that its scope is the app."""
    shell = [reverse("app:home"), *(static(a) for a in SHELL_ASSETS)]
    # Pages kept at installation besides the home page (it is SHELL[0]); a page
    # refused to this user (no registry role) is simply not kept.
    pages = [reverse("app:households")] if may_use_registry(request.user) else []
    response = render(
        request,
        "web/app/sw.js",
        {
            "version": SHELL_VERSION,
            "shell": json.dumps(shell),
            "pages": json.dumps(pages),
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("app:home")
    return response
