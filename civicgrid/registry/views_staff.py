"""Households on the staff workbench (/workbench/households/): the list of the
user's regions with filters and an Excel export, one household with its members
(masked) and the timeline of its visits and information collections, and the
import of households from Excel or CSV with its per-row report."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from civicgrid.core.api_personal import reveal_by_ref
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.core.reveal import can_unmask
from civicgrid.core.scope import prefixes_q
from civicgrid.events.views_staff import staff_required
from civicgrid.regions.models import Grid
from civicgrid.registry import exports, selectors
from civicgrid.registry.errors import RegistryError
from civicgrid.registry.imports import households_import

PAGE_SIZE = 50
PAGE_SIZES = ("20", "50", "100")
FILTERS = ("q", "grid", "group", "due")
# Grids offered as suggestions in the filter: a town's; a city has thousands.
GRID_SUGGESTIONS = 300
UPLOAD_LIMIT = 10 * 1024 * 1024
REVEALABLE_FIELDS = ("name", "id_number", "phone")


def _reader(request: HttpRequest) -> Any:
    if not selectors.may_read_registry(request.user):
        raise PermissionDenied(
            _("Only grid staff, governance centers and leaders see the households.")
        )
    return request.user


def _xlsx(content: bytes, name: str) -> HttpResponse:
    answer = HttpResponse(content, content_type=exports.XLSX)
    answer["Content-Disposition"] = f'attachment; filename="{name}"'
    answer["Cache-Control"] = "no-store"
    return answer


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def households(request: HttpRequest) -> HttpResponse:
    """The households of the user's regions; ?export=xlsx gives the filtered list as
    Excel (masked); a POST with a reason gives it unmasked to those who may."""
    user = _reader(request)
    source = request.POST if request.method == "POST" else request.GET
    params = {k: source.get(k, "").strip() for k in FILTERS}
    try:
        rows = selectors.household_list(user, params)
    except ValueError:
        raise Http404(_("No such special group.")) from None
    unmask = request.method == "POST"
    if unmask or request.GET.get("export") == "xlsx":
        try:
            content = exports.households_export(
                actor=user,
                households=rows,
                filters=params,
                unmask=unmask,
                reason=request.POST.get("reason", ""),
            )
        except (RegistryError, ValidationError) as exc:
            message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            return render(
                request,
                "registry/export_refused.html",
                {"message": message},
                status=400,
            )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        suffix = "-unmasked" if unmask else ""
        return _xlsx(content, f"households-{stamp}{suffix}.xlsx")
    size = request.GET.get("size", "")
    page_size = size if size in PAGE_SIZES else str(PAGE_SIZE)
    page, page_rows = selectors.household_page(
        rows, int(page_size), request.GET.get("page")
    )
    grids = (
        Grid.objects.filter(prefixes_q(user.scope_prefixes, "code"))
        .order_by("code")
        .values_list("code", "name")[:GRID_SUGGESTIONS]
    )
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    return render(
        request,
        "registry/households.html",
        {
            "page": page,
            "rows": page_rows,
            "params": params,
            "groups": selectors.group_choices(user),
            "grids": list(grids),
            "page_sizes": PAGE_SIZES,
            "page_size": page_size,
            "filters": query.urlencode(),
            "due_days": selectors.VISIT_DUE_DAYS,
            "can_unmask": can_unmask(user),
            "may_import": selectors.may_use_registry(user),
        },
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def household(request: HttpRequest, pk: int) -> HttpResponse:
    """One household: its members (masked) and its visits and collections. A POST
    shows one member's field unmasked, for a stated reason (audited; 403 without the
    permission)."""
    user = _reader(request)
    home = selectors.household_visible(user, pk)
    if home is None:
        raise Http404(_("No such household in your regions."))
    members = selectors.member_rows(user, home)
    error, status = "", 200
    if request.method == "POST":
        person, field = request.POST.get("person", ""), request.POST.get("field", "")
        member = next((m for m in members if str(m["id"]) == person), None)
        if member is None or field not in REVEALABLE_FIELDS:
            raise Http404(_("No such member in this household."))
        try:
            member[field] = reveal_by_ref(
                user, "registry.person", person, field, request.POST.get("reason", "")
            )
            member["revealed"] = field
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 400
    return render(
        request,
        "registry/household.html",
        {
            "home": home,
            "members": members,
            "timeline": selectors.household_timeline(home),
            "due": selectors.visit_due(home),
            "due_days": selectors.VISIT_DUE_DAYS,
            "can_unmask": can_unmask(user),
            "error": error,
        },
        status=status,
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def household_import(request: HttpRequest) -> HttpResponse:
    """Upload an Excel or CSV file of households; the report names every bad row
    (nothing is written then) or counts what was registered."""
    user = _reader(request)
    if not selectors.may_use_registry(user):
        raise PermissionDenied(
            _("Households are registered by grid staff and governance centers.")
        )
    if request.GET.get("template"):
        return _xlsx(exports.template_xlsx(), "households-template.xlsx")
    report: ImportReport | None = None
    file_name = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        report = ImportReport()
        if upload is None:
            report.error("", 0, _("Choose a file to upload."))
        elif (upload.size or 0) > UPLOAD_LIMIT:
            file_name = upload.name or ""
            report.error(file_name, 0, _("The file is larger than 10 MB."))
        else:
            file_name = upload.name or "upload.xlsx"
            try:
                report = households_import(
                    actor=user, content=upload.read(), file_name=file_name
                )
            except ImportRejected as exc:
                report = exc.report
    return render(
        request,
        "registry/import.html",
        {"report": report, "file_name": file_name},
        status=400 if report is not None and not report.ok else 200,
    )
