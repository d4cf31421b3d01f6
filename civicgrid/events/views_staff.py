"""Workbench pages for staff: the queue of events in their scope, an event's detail
with its timeline and map, one form per step they may take, and attachments."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from shapely.geometry import mapping

from civicgrid.accounts.models import Department
from civicgrid.accounts.selectors import is_staff_member
from civicgrid.core.api_personal import reveal_by_ref
from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.reveal import can_unmask
from civicgrid.events import engine, selectors, workflow
from civicgrid.events.errors import EventError, NotPermitted, StaleVersion
from civicgrid.events.forms import (
    RATING_CHOICES,
    SOURCE_LABELS,
    QueueFilterForm,
    TransitionForm,
    field_label,
)
from civicgrid.events.models import (
    Assignment,
    Attachment,
    Event,
    Matter,
    WorkflowDefinition,
)
from civicgrid.events.uploads import check_photos
from civicgrid.web import queues

LOGIN_URL = reverse_lazy("workbench:login")
SOON = timedelta(hours=2)
# "Waiting for me" runs the engine's permission check per event: the candidates are
# first narrowed by state and role in SQL, and at most this many are checked.
MINE_LIMIT = 500
PAGE_SIZE = 50
PAGE_SIZES = ("20", "50", "100")


def staff_required(view: Any) -> Any:
    """Signed in, and holding a staff post (citizens have their own pages)."""

    @login_required(login_url=LOGIN_URL)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_member(request.user):  # type: ignore[arg-type]
            raise PermissionDenied
        return view(request, *args, **kwargs)  # type: ignore[no-any-return]

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def available_steps(user: Any, event: Event) -> list[workflow.Transition]:
    """The steps of the event's loop this user may take now."""
    out = []
    for t in engine.definition_of(event).available(event.state):
        try:
            department = engine.authorise(user, event, t)
        except NotPermitted:
            continue
        if department is not None and t.effect in ("sign_for", "report_done"):
            # The engine refuses signing twice or reporting before signing: offering
            # those buttons would only lead to an error.
            status = (
                event.assignments.filter(active=True, department=department)
                .values_list("status", flat=True)
                .first()
            )
            wanted = (
                Assignment.Status.PENDING
                if t.effect == "sign_for"
                else Assignment.Status.SIGNED
            )
            if status != wanted:
                continue
        out.append(t)
    return out


def mine_ids(user: Any, qs: QuerySet[Event]) -> list[int]:
    """The open events of ``qs`` on which the user may take a step now."""
    workflows = list(qs.values_list("workflow_id", flat=True).distinct())
    return list(
        qs.filter(queues.mine_q(user, workflows))
        .order_by("deadline_at", "id")
        .values_list("pk", flat=True)[:MINE_LIMIT]
    )


def deadline_status(event: Event, now: datetime | None = None) -> str:
    """ "overdue" when past; "soon" within 2 h or the last 25 % of its time limit."""
    if event.deadline_at is None or event.closed_at is not None:
        return ""
    now = now or timezone.now()
    left = event.deadline_at - now
    if left < timedelta(0):
        return "overdue"
    hours = (
        event.matter.limit_hours(event.severity, event.deadline_kind)
        if event.matter and event.deadline_kind
        else None
    )
    if hours is None and event.deadline_kind:
        hours = engine.definition_of(event).default_limits.get(event.deadline_kind)
    if left <= SOON or (hours and left <= timedelta(hours=hours) * 0.25):
        return "soon"
    return ""


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """The workbench home: the queues of the user's roles with their counts, one
    list at a time with filters, paginated, or exported to Excel."""
    user = request.user
    visible = selectors.events_visible(user)
    definitions = WorkflowDefinition.objects.filter(
        pk__in=visible.values("workflow_id")
    )
    states: dict[str, str] = {}
    for wf in definitions:
        for name, spec in wf.definition["states"].items():
            states.setdefault(name, str(spec.get("label", name)))
    matters = Matter.objects.filter(pk__in=visible.values("matter_id")).order_by("code")
    form = QueueFilterForm(
        request.GET or None,
        states=list(states.items()),
        matters=[(m.code, m.name) for m in matters],
    )
    filtered = selectors.events_filtered(visible, form.params())
    now = timezone.now()
    workflow_ids = [wf.pk for wf in definitions]
    by_tab = queues.event_tabs(user, filtered, workflow_ids, now)
    names = queues.tabs_for(user)
    tab = request.GET.get("tab", "")
    if tab not in names:
        tab = "mine" if "mine" in names else names[0]
    labels = queues.tab_labels()
    disputes = queues.dispute_slot(user) if "disputes" in names else None
    tabs = []
    for key in names:
        if key == "disputes":
            count = disputes.count if disputes else None
        else:
            count = by_tab[key].count()
        tabs.append({"key": key, "label": labels[key], "count": count})
    order = ("-created_at", "-id") if tab == "all" else ("deadline_at", "-id")
    rows = (
        by_tab[tab].select_related("matter", "lead_department").order_by(*order)
        if tab in by_tab
        else Event.objects.none()
    )
    if request.GET.get("export") == "xlsx":
        return _export(rows, labels[tab], now)
    size = request.GET.get("size", "")
    page_size = size if size in PAGE_SIZES else str(PAGE_SIZE)
    page = Paginator(rows, int(page_size)).get_page(request.GET.get("page"))
    detail_base = reverse("workbench:detail", args=["CODE"]).removesuffix("CODE/")
    events = [
        {
            "event": e,
            "state_label": engine.definition_of(e).label(e.state),
            "deadline_status": deadline_status(e, now),
            "url": f"{detail_base}{e.code}/",
        }
        for e in page
    ]
    query = request.GET.copy()
    for key in ("tab", "page", "export"):
        query.pop(key, None)
    return render(
        request,
        "events/queue.html",
        {
            "form": form,
            "tabs": tabs,
            "tab": tab,
            "tab_label": labels[tab],
            "disputes": disputes,
            "events": events,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "page_size": page_size,
            "filters": query.urlencode(),
        },
    )


def _export(rows: QuerySet[Event], label: str, now: datetime) -> HttpResponse:
    """The whole list (not only the page shown) as an .xlsx workbook."""
    headers = [
        _("Code"),
        _("Title"),
        _("Matter"),
        _("State"),
        _("Region code"),
        _("Lead department"),
        _("Deadline"),
        _("Overdue"),
        _("Reported at"),
        _("Closed at"),
    ]
    data = (
        [
            e.code,
            e.title,
            e.matter.name if e.matter else "",
            engine.definition_of(e).label(e.state),
            e.region_code,
            e.lead_department.name if e.lead_department else "",
            e.deadline_at,
            _("yes") if deadline_status(e, now) == "overdue" else "",
            e.created_at,
            e.closed_at,
        ]
        for e in rows[: queues.EXPORT_LIMIT]
    )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return queues.xlsx_response(f"events-{stamp}.xlsx", headers, data)


def _visible_event(user: Any, code: str) -> Event:
    event = (
        selectors.events_visible(user)
        .select_related("matter", "grid", "workflow", "lead_department")
        .filter(code=code)
        .first()
    )
    if event is None:
        raise Http404(_("No such event in your scope."))
    return event


def _departments_for(event: Event) -> QuerySet[Department]:
    """Departments that serve the event's area: their code prefixes the event's."""
    prefixes = [event.region_code[:n] for n in range(2, len(event.region_code) + 1)]
    return Department.objects.filter(
        city_code=event.city_code, region_code__in=prefixes
    ).order_by("region_code", "name")


@dataclass
class TimelineRow:
    step: str
    state_label: str
    actor: str
    department: str
    at: datetime
    note: str
    data: list[tuple[str, str]]
    attachments: Sequence[Attachment]


def _data_rows(
    data: dict[str, Any], departments: dict[int, str]
) -> list[tuple[str, str]]:
    ratings = {k: str(v) for k, v in RATING_CHOICES}
    out = []
    for key, value in data.items():
        # Internal references (the whistle's or order's id, a call's status code)
        # mean nothing to a reader: the step's label and note say it.
        if key in ("source", "matter", "whistle", "order", "status") or value in (
            None,
            "",
            [],
        ):
            continue
        if key == "due_at":
            due = parse_datetime(str(value))
            value = date_format(timezone.localtime(due), "Y-m-d H:i") if due else value
        elif key == "lead_department":
            value = (
                departments.get(int(value), value) if str(value).isdigit() else value
            )
        elif key in ("co_departments", "departments") and isinstance(value, list):
            value = "、".join(
                departments.get(int(v), str(v)) if str(v).isdigit() else str(v)
                for v in value
            )
        elif key == "rating":
            value = ratings.get(str(value), value)
        out.append((field_label(key), str(value)))
    return out


def _timeline(event: Event, definition: workflow.Definition) -> list[TimelineRow]:
    actions = list(
        event.actions.select_related("department").prefetch_related("attachments")
    )
    ids: set[int] = set()
    for a in actions:
        for key in ("lead_department", "co_departments", "departments"):
            value = a.data.get(key)
            for v in value if isinstance(value, list) else [value]:
                if str(v).isdigit():
                    ids.add(int(v))
    names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    rows = []
    for a in actions:
        rows.append(
            TimelineRow(
                step=definition.step_label(a.transition),
                state_label=definition.label(a.to_state),
                actor=a.actor_label,
                department=a.department.name if a.department else "",
                at=a.at,
                note=a.note,
                data=_data_rows(a.data, names),
                attachments=list(a.attachments.all()),
            )
        )
    return rows


def _render_detail(
    request: HttpRequest,
    event: Event,
    *,
    bound: TransitionForm | None = None,
    error: str = "",
    status: int = 200,
    revealed_phone: str = "",
) -> HttpResponse:
    user = request.user
    definition = engine.definition_of(event)
    departments = _departments_for(event)
    forms = []
    for t in available_steps(user, event):
        if bound is not None and bound.transition.name == t.name:
            forms.append(bound)
        else:
            forms.append(
                TransitionForm(
                    transition=t,
                    departments=departments,
                    initial={"version": event.version},
                )
            )
    source = str(SOURCE_LABELS.get(event.source, event.source))  # type: ignore[call-overload]
    map_data = {
        "grid": mapping(event.grid.geometry) if event.grid else None,
        "point": [event.lon, event.lat],
    }
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "state_label": definition.label(event.state),
            "source_label": source,
            "deadline_status": deadline_status(event),
            "reporter_phone": revealed_phone
            or mask(event.reporter_phone, PersonalKind.PHONE),
            "phone_revealed": bool(revealed_phone),
            "can_unmask": can_unmask(user),
            "reporter_name": mask(event.reporter_name, PersonalKind.NAME),
            "timeline": _timeline(event, definition),
            "assignments": event.assignments.select_related("department").order_by(
                "-active", "role", "id"
            ),
            "attachments": event.attachments.order_by("id"),
            "forms": forms,
            "error": error,
            "map_data": map_data,
        },
        status=status,
    )


@staff_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """An event: what, where, its deadline, timeline, departments and the steps the
    user may take."""
    return _render_detail(request, _visible_event(request.user, code))


@require_POST
@staff_required
def reveal_phone(request: HttpRequest, code: str) -> HttpResponse:
    """The reporter's full phone number, shown once for a stated reason (audited;
    403 without the permission, never cached)."""
    event = _visible_event(request.user, code)
    try:
        phone = reveal_by_ref(
            request.user,
            "events.event",
            event.code,
            "reporter_phone",
            request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        return _render_detail(request, event, error=" ".join(exc.messages), status=400)
    response = _render_detail(request, event, revealed_phone=phone)
    add_never_cache_headers(response)
    return response


@require_POST
@staff_required
def act(request: HttpRequest, code: str) -> HttpResponse:
    """Take one step with the version the officer saw; errors are shown on the page."""
    event = _visible_event(request.user, code)
    t = engine.definition_of(event).transitions.get(request.POST.get("transition", ""))
    if t is None:
        return _render_detail(
            request, event, error=_("This step does not exist."), status=400
        )
    form = TransitionForm(
        request.POST, transition=t, departments=_departments_for(event)
    )
    if not form.is_valid():
        return _render_detail(
            request,
            event,
            bound=form,
            error=_("Please correct the fields marked below."),
            status=400,
        )
    try:
        files = request.FILES.getlist(f"{form.prefix}-photos")
        event = engine.event_act(
            actor=request.user,
            event_id=event.pk,
            transition=t.name,
            version=form.cleaned_data["version"],
            data=form.step_data(),
            note=form.cleaned_data.get("note", ""),
            photos=check_photos([(f.name or "photo", f.read()) for f in files]),
        )
    except StaleVersion as exc:
        current = _visible_event(request.user, exc.event.code)
        return _render_detail(
            request,
            current,
            error=_(
                "This event has been handled by someone else; the page now shows its "
                "latest state."
            ),
            status=409,
        )
    except NotPermitted as exc:
        return _render_detail(
            request,
            event,
            bound=form,
            error=_("You may not take this step: %(reason)s") % {"reason": exc},
            status=403,
        )
    except EventError as exc:
        return _render_detail(
            request,
            event,
            bound=form,
            error=_("The step was not taken: %(reason)s") % {"reason": exc},
            status=400,
        )
    messages.success(
        request,
        _("“%(step)s” done; the event is now “%(state)s”.")
        % {"step": t.label, "state": engine.definition_of(event).label(event.state)},
    )
    return redirect("workbench:detail", code=event.code)


@staff_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A photo, streamed only to users who may see its event (MEDIA_ROOT is not
    served publicly)."""
    found = (
        Attachment.objects.filter(
            pk=pk, event__in=selectors.events_visible(request.user)
        )
        .only("file", "content_type")
        .first()
    )
    if found is None:
        raise Http404(_("No such attachment in your scope."))
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
