"""Figures of the leadership dashboard for one area, within the viewer's scope: the
map of its sub-areas with every measure, live counts, trends, top matters and the
overdue events by department."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from civicgrid.core.scope import covers
from civicgrid.events import selectors
from civicgrid.events.models import Event, Rating, SupervisionOrder
from civicgrid.events.supervision import supervision_counts
from civicgrid.peace_index.maps import map_geojson
from civicgrid.peace_index.selectors import results_visible
from civicgrid.regions.models import Region

MEASURES = ("events", "overdue", "satisfaction", "index")
TREND_DAYS = 30
TOP = 10
GOOD = (Rating.SATISFIED, Rating.BASICALLY)


def start_area(user: Any) -> Region | None:
    """The widest area the user sees (the first city for a superuser)."""
    prefixes = sorted(user.scope_prefixes, key=len)
    if not prefixes or prefixes[0] == "":
        return Region.objects.filter(level="city").order_by("code").first()
    return Region.objects.filter(region_code=prefixes[0]).first()


def area_for(user: Any, code: str) -> Region | None:
    """The area with this code if the user's scope covers it, else None."""
    region = Region.objects.filter(Q(code=code) | Q(region_code=code)).first()
    if region is None or not covers(user.scope_prefixes, region.region_code):
        return None
    return region


def events_of(user: Any, area: Region) -> QuerySet[Event]:
    return selectors.events_visible(user).filter(
        region_code__startswith=area.region_code
    )


def _satisfaction(good: int, rated: int) -> float | None:
    return round(100 * good / rated, 1) if rated else None


def area_map(user: Any, area: Region, now: datetime) -> dict[str, Any]:
    """The sub-areas as GeoJSON with events, overdue, satisfaction (%) and the
    peace index of the latest month."""
    geo = map_geojson(area, results_visible(user.scope_prefixes), None)
    lengths = {len(str(f["properties"]["code"])) for f in geo["features"]}
    children = {
        c.code: c.region_code for c in Region.objects.filter(parent=area).only("code")
    }
    figures: dict[str, dict[str, Any]] = {}
    prefix_lengths = {len(children[c]) for c in children} or lengths
    for n in prefix_lengths:
        rows = (
            events_of(user, area)
            .annotate(prefix=Substr("region_code", 1, n))
            .values("prefix")
            .annotate(
                events=Count("id"),
                overdue=Count(
                    "id", filter=Q(closed_at__isnull=True, deadline_at__lt=now)
                ),
                rated=Count("id", filter=~Q(rating="")),
                good=Count("id", filter=Q(rating__in=GOOD)),
            )
            .order_by()
        )
        for row in rows:
            figures[row["prefix"]] = dict(row)
    for feature in geo["features"]:
        props = feature["properties"]
        found = figures.get(children.get(props["code"], ""), {})
        props["events"] = found.get("events", 0)
        props["overdue"] = found.get("overdue", 0)
        props["satisfaction"] = _satisfaction(
            found.get("good", 0), found.get("rated", 0)
        )
    return geo


def live_counts(user: Any, area: Region, now: datetime) -> dict[str, Any]:
    qs = events_of(user, area)
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    row = qs.aggregate(
        total=Count("id"),
        today=Count("id", filter=Q(created_at__gte=today)),
        open=Count("id", filter=Q(closed_at__isnull=True)),
        overdue=Count("id", filter=Q(closed_at__isnull=True, deadline_at__lt=now)),
        closed_today=Count("id", filter=Q(closed_at__gte=today)),
        rated=Count("id", filter=~Q(rating="")),
        good=Count("id", filter=Q(rating__in=GOOD)),
    )
    row["satisfaction"] = _satisfaction(row.pop("good"), row.pop("rated"))
    row["supervision_open"] = SupervisionOrder.objects.filter(
        event__in=qs, answered_at__isnull=True
    ).count()
    row["at"] = now
    return row


def trend(user: Any, area: Region, now: datetime) -> dict[str, list[Any]]:
    """Reported and closed per day over the last 30 days."""
    since = timezone.localtime(now).date() - timedelta(days=TREND_DAYS - 1)
    qs = events_of(user, area)
    days = [since + timedelta(days=i) for i in range(TREND_DAYS)]
    series: dict[str, dict[Any, int]] = {}
    for name, field in (("reported", "created_at"), ("closed", "closed_at")):
        rows = (
            qs.filter(**{f"{field}__date__gte": since})
            .annotate(day=TruncDate(field))
            .values("day")
            .annotate(n=Count("id"))
            .order_by()
        )
        series[name] = {r["day"]: r["n"] for r in rows}
    return {
        "days": [d.strftime("%m-%d") for d in days],
        "reported": [series["reported"].get(d, 0) for d in days],
        "closed": [series["closed"].get(d, 0) for d in days],
    }


def top_matters(user: Any, area: Region) -> list[dict[str, Any]]:
    rows = (
        events_of(user, area)
        .exclude(matter=None)
        .values("matter__name")
        .annotate(n=Count("id"))
        .order_by("-n", "matter__name")[:TOP]
    )
    return [{"name": r["matter__name"], "n": r["n"]} for r in rows]


def overdue_by_department(
    user: Any, area: Region, now: datetime
) -> list[dict[str, Any]]:
    """Open overdue events by lead department, with the department's supervision
    orders (from supervision_counts)."""
    rows = (
        events_of(user, area)
        .filter(closed_at__isnull=True, deadline_at__lt=now)
        .exclude(lead_department=None)
        .values("lead_department_id", "lead_department__name")
        .annotate(n=Count("id"))
        .order_by("-n", "lead_department__name")[:TOP]
    )
    counts = supervision_counts() if rows else {}
    return [
        {
            "name": r["lead_department__name"],
            "overdue": r["n"],
            "supervision_orders": counts.get(str(r["lead_department_id"]), {}).get(
                "supervision_orders", 0
            ),
        }
        for r in rows
    ]


def ancestors(area: Region, user: Any) -> list[dict[str, str]]:
    """The path from the widest area the user sees down to this one."""
    out = []
    node: Region | None = area
    while node is not None and covers(user.scope_prefixes, node.region_code):
        out.append({"code": node.code, "name": node.name})
        node = node.parent
    return list(reversed(out))


def everything(user: Any, area: Region) -> dict[str, Any]:
    now = timezone.now()
    live = live_counts(user, area, now)
    return {
        "area": {"code": area.code, "name": area.name, "level": area.level},
        "path": ancestors(area, user),
        "map": area_map(user, area, now),
        "live": live,
        "trend": trend(user, area, now),
        "matters": top_matters(user, area),
        "departments": overdue_by_department(user, area, now),
    }
