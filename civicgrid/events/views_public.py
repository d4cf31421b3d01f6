"""Citizen pages without an account: report a problem on a map, then follow it by
its code and tracking token."""

import secrets
import uuid
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from shapely.geometry import mapping

from civicgrid.events import engine, services
from civicgrid.events.errors import EventError, IdempotencyConflict, OutsideGrids
from civicgrid.events.forms import ReportForm, TrackForm
from civicgrid.events.models import Event, Source
from civicgrid.events.uploads import MAX_PHOTOS, check_photos
from civicgrid.regions.models import Region

SESSION_KEY = "events_reported"
TOWNS_CACHE_SECONDS = 600
# Outlines simplified to about 100 m: enough to find one's town on a map without tiles.
SIMPLIFY_DEGREES = 0.001


def _towns() -> dict[str, Any]:
    """Town outlines as GeoJSON, so a citizen can find the place on a map that has
    no base tiles (intranets have no tile server)."""
    cached = cache.get("events:report-towns")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    features = []
    for town in Region.objects.filter(level="town").exclude(boundary=None):
        if town.boundary is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"name": town.name},
                "geometry": mapping(
                    town.boundary.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
                ),
            }
        )
    towns = {"type": "FeatureCollection", "features": features}
    cache.set("events:report-towns", towns, TOWNS_CACHE_SECONDS)
    return towns


def _render_report(
    request: HttpRequest, form: ReportForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "events/report.html",
        {"form": form, "towns": _towns(), "max_photos": MAX_PHOTOS},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The report form; a hidden key makes a double submit one report."""
    if request.method != "POST":
        return _render_report(
            request, ReportForm(initial={"idempotency_key": uuid.uuid4()})
        )
    form = ReportForm(request.POST)
    if not form.is_valid():
        if form.has_error("idempotency_key"):
            form = ReportForm(
                {**request.POST.dict(), "idempotency_key": str(uuid.uuid4())}
            )
            form.is_valid()
        return _render_report(request, form, status=400)
    data = form.cleaned_data
    user = request.user if request.user.is_authenticated else None
    try:
        files = request.FILES.getlist("photos")
        photos = check_photos([(f.name or "photo", f.read()) for f in files])
        event, _created = services.event_report(
            actor=user,
            source=Source.CITIZEN_WEB,
            title=data["title"],
            description=data["description"],
            lon=data["lon"],
            lat=data["lat"],
            address=data.get("address", ""),
            reporter_name=data.get("reporter_name", ""),
            reporter_phone=data.get("reporter_phone", ""),
            photos=photos,
            idempotency_key=f"web-{data['idempotency_key']}",
            digest=services.request_digest(form.payload(), photos),
        )
    except IdempotencyConflict:
        # This form was sent before with other content: a new key makes the next
        # submit a new report.
        fresh = ReportForm(
            {**request.POST.dict(), "idempotency_key": str(uuid.uuid4())}
        )
        fresh.is_valid()
        fresh.add_error(
            None,
            _(
                "This form was already sent with different content. Check it and "
                "send it again to make a new report."
            ),
        )
        return _render_report(request, fresh, status=400)
    except OutsideGrids:
        form.add_error(
            None,
            _("The place you marked is outside the area this platform serves."),
        )
        return _render_report(request, form, status=400)
    except EventError as exc:
        form.add_error(
            None, _("The report was not taken: %(reason)s") % {"reason": exc}
        )
        return _render_report(request, form, status=400)
    request.session[SESSION_KEY] = {"code": event.code, "token": event.tracking_token}
    return redirect("report:done")


def done(request: HttpRequest) -> HttpResponse:
    """The code and tracking token of the report just made (kept in the session)."""
    made = request.session.get(SESSION_KEY)
    if not made:
        return redirect("report:form")
    event = Event.objects.filter(code=made["code"]).select_related("workflow").first()
    if event is None:
        return redirect("report:form")
    return render(
        request,
        "events/report_done.html",
        {
            "code": event.code,
            "token": made["token"],
            "state_label": engine.definition_of(event).label(event.state),
        },
    )


def track(request: HttpRequest) -> HttpResponse:
    """A report's progress by code and token: steps, states and times, nothing
    personal. A wrong code or token is a 404."""
    form = TrackForm(request.GET if "code" in request.GET else None)
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "events/track.html", context)
    event = None
    if form.is_valid():
        event = (
            Event.objects.filter(code=form.cleaned_data["code"].strip())
            .select_related("workflow")
            .first()
        )
        if event is not None and not (
            event.tracking_token
            and secrets.compare_digest(
                event.tracking_token, form.cleaned_data["token"].strip()
            )
        ):
            event = None
    if event is None:
        context["not_found"] = True
        return render(request, "events/track.html", context, status=404)
    definition = engine.definition_of(event)
    steps = [
        {
            "step": definition.transitions[a.transition].label
            if a.transition in definition.transitions
            else _("Reported"),
            "state_label": definition.label(a.to_state),
            "at": a.at,
        }
        for a in event.actions.all()
    ]
    context.update(
        event=event,
        state_label=definition.label(event.state),
        final=definition.is_final(event.state),
        steps=steps,
    )
    return render(request, "events/track.html", context)
