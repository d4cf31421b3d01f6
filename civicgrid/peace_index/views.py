"""Pages: the public look-up of an area's published index, and the staff dashboard
map."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.accounts.selectors import is_staff_member
from civicgrid.peace_index import selectors
from civicgrid.peace_index.models import IndexKind
from civicgrid.regions.selectors import ancestors, region_by_any_code


def public(request: HttpRequest) -> HttpResponse:
    """Anyone chooses an area and sees its published index, trend and rank."""
    kind = request.GET.get("kind", IndexKind.PEACE)
    if kind not in IndexKind.values:
        kind = IndexKind.PEACE
    published = selectors.results_published(kind).select_related("region")
    code = request.GET.get("area", "").strip()
    region = region_by_any_code(code) if code else None
    if region is None:
        first = published.filter(level="city").order_by("region_code").first()
        region = first.region if first else None
    context: dict[str, object] = {"kind": kind, "region": region, "latest": None}
    if region is not None:
        month = selectors.latest_month(published.filter(region_code=region.region_code))
        if month is None and code:
            raise Http404("no published figures")
        if month is not None:
            history = selectors.area_history(published, region.region_code, month)
            context.update(
                latest=history[-1],
                drivers=selectors.explain(history[-1]),
                chain=ancestors(region),
                children=published.filter(
                    month=month, parent_code=region.region_code
                ).order_by("rank", "region_code"),
                trend={
                    "months": [r.month for r in history],
                    "index": [round(r.index, 2) for r in history],
                    "security": [round(r.security, 2) for r in history],
                    "governance": [round(r.governance, 2) for r in history],
                },
            )
    context["cities"] = (
        published.filter(level="city")
        .distinct()
        .values_list("region_code", "region__name")
    )
    return render(request, "peace_index/public.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The city map coloured by index, drilling down city → county → town."""
    user = request.user
    if not is_staff_member(user):  # type: ignore[arg-type]
        raise PermissionDenied
    prefixes = list(user.scope_prefixes)  # type: ignore[union-attr]
    code = request.GET.get("area", "").strip()
    if not code:
        code = next((p for p in prefixes if len(p) in (4, 6, 9)), "")
        if not code:
            first = selectors.results_visible(prefixes).filter(level="city").first()
            code = first.region_code if first else ""
    kind = request.GET.get("kind", IndexKind.PEACE)
    if kind not in IndexKind.values:
        kind = IndexKind.PEACE
    return render(request, "peace_index/dashboard.html", {"start": code, "kind": kind})
