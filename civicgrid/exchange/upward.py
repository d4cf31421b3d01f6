"""Upward reporting: a city instance sends its monthly figures (peace-index results,
event and dispute statistics) to a higher-level instance of the same software
through the signed exchange API; the higher level keeps the latest report of each
city and month and shows the cities side by side."""

import json
import re
import urllib.error
import urllib.request
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from civicgrid.core.audit import audit_record
from civicgrid.core.scope import covers, prefixes_q
from civicgrid.events import selectors as event_selectors
from civicgrid.events.models import Event
from civicgrid.exchange import signing
from civicgrid.exchange.models import (
    CityReport,
    ConnectedSystem,
    Permission,
    Upstream,
    UpwardSend,
)
from civicgrid.exchange.systems import BadPush, NotAllowed
from civicgrid.regions.models import Region

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
TIMEOUT_SECONDS = 30


def month_span(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in local time."""
    m = MONTH.match(month)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise BadPush(f"bad month {month!r} (YYYY-MM)")
    year, mon = int(m.group(1)), int(m.group(2))
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz)
    return start, end


def _peace(city: str, month: str) -> dict[str, Any]:
    from civicgrid.peace_index.models import AreaResult, MonthRun, RunStatus

    out: dict[str, Any] = {}
    runs = MonthRun.objects.filter(
        city_code=city, month=month, status=RunStatus.PUBLISHED
    )
    for run in runs:
        top = AreaResult.objects.filter(run=run, region_code=city).first()
        out[run.kind] = (
            {
                "security": top.security,
                "cases": top.cases,
                "raw_rate": top.raw_rate,
                "eb_rate": top.eb_rate,
                "yoy_change": top.yoy_change,
                "published_at": run.published_at.isoformat()
                if run.published_at
                else None,
            }
            if top
            else None
        )
    return out


def _events(qs: QuerySet[Event], end: datetime) -> dict[str, Any]:
    def counts(field: str) -> dict[str, int]:
        return {
            str(r[field]): r["n"]
            for r in qs.values(field).annotate(n=Count("id")).order_by(field)
        }

    total = qs.count()
    closed = qs.filter(closed_at__isnull=False).count()
    return {
        "reported": total,
        "closed": closed,
        "closure_rate": round(closed / total, 4) if total else None,
        "overdue_open": qs.filter(closed_at__isnull=True, deadline_at__lt=end).count(),
        "on_time_rate": event_selectors.on_time_rate(qs),
        "by_source": counts("source"),
        "by_severity": counts("severity"),
        "resolved_at_level": event_selectors.resolution_levels(qs),
        "satisfaction": event_selectors.satisfaction(qs),
    }


def _disputes(city: str, start: datetime, end: datetime) -> dict[str, Any]:
    from civicgrid.disputes.models import Case
    from civicgrid.disputes.selectors import case_stats

    qs = Case.objects.filter(city_code=city, created_at__gte=start, created_at__lt=end)
    stats = case_stats(qs)
    stats.pop("by_area_month", None)
    return stats


def report_build(city: str, month: str) -> dict[str, Any]:
    start, end = month_span(month)
    region = Region.objects.filter(region_code=city, level="city").first()
    events = Event.objects.filter(
        city_code=city, created_at__gte=start, created_at__lt=end
    )
    return {
        "city_code": city,
        "city_name": region.name if region else city,
        "month": month,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "peace_index": _peace(city, month),
        "events": _events(events, end),
        "disputes": _disputes(city, start, end),
    }


def report_send(*, actor: Any, upstream: Upstream, month: str) -> UpwardSend:
    """Build the month's report and POST it, signed, to the higher level; the answer
    is logged (a failed send can simply be sent again: the receiver keeps one report
    per city and month)."""
    payload = report_build(upstream.city_code, month)
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    url = upstream.url.rstrip("/") + "/exchange/v1/reports"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadPush("the higher level's URL must be http or https")
    headers = signing.signed_headers(
        key_id=upstream.key_id,
        secret=upstream.secret,
        method="POST",
        path=parts.path,
        body=body,
    )
    headers["Content-Type"] = "application/json; charset=utf-8"
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, headers=headers, method="POST"
    )
    status: int | None
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            status, text = int(answer.status), answer.read()
    except urllib.error.HTTPError as exc:
        status, text = int(exc.code), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        status, text = None, json.dumps({"error": str(exc)}).encode()
    try:
        parsed = json.loads(text or b"{}")
    except ValueError:
        parsed = {"error": text[:300].decode(errors="replace")}
    with transaction.atomic():
        sent = UpwardSend.objects.create(
            upstream=upstream,
            month=month,
            ok=status is not None and 200 <= status < 300,
            status_code=status,
            answer=parsed if isinstance(parsed, dict) else {"answer": parsed},
        )
        audit_record(
            actor=actor,
            action="exchange.upward_send",
            obj=sent,
            region_code=upstream.city_code,
            changes={"month": [None, month], "status": [None, status]},
        )
    return sent


LOOKBACK_MONTHS = 3  # a month published late is still sent, up to three months back


def months_back(today: date, count: int = LOOKBACK_MONTHS) -> list[str]:
    """The ``count`` months before ``today``'s, the latest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(f"{year:04d}-{month:02d}")
    return out


def upward_send_due(*, today: date | None = None) -> dict[str, list[str]]:
    """The scheduled job's work: for each active upstream and each of the last months,
    send the month once the city's peace index for it is published and no send of it
    has been accepted yet. A failed send is tried again on the next run; a sent month
    is not sent again (``send_upward_report --month`` resends by hand)."""
    from civicgrid.peace_index.models import IndexKind, MonthRun, RunStatus

    months = months_back(today or timezone.localdate())
    out: dict[str, list[str]] = {"sent": [], "failed": [], "waiting": []}
    for up in Upstream.objects.filter(active=True).order_by("pk"):
        published = set(
            MonthRun.objects.filter(
                kind=IndexKind.PEACE,
                city_code=up.city_code,
                month__in=months,
                status=RunStatus.PUBLISHED,
            ).values_list("month", flat=True)
        )
        done = set(
            UpwardSend.objects.filter(
                upstream=up, month__in=months, ok=True
            ).values_list("month", flat=True)
        )
        for month in reversed(months):  # the oldest first
            label = f"{up.city_code} {month}"
            if month in done:
                continue
            if month not in published:
                if month == months[0]:
                    out["waiting"].append(label)
                continue
            sent = report_send(actor=None, upstream=up, month=month)
            out["sent" if sent.ok else "failed"].append(label)
    return out


# --- the higher level -----------------------------------------------------------


def report_receive(
    *, system: ConnectedSystem, data: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Keep the latest report of a city and month sent by a system allowed to report
    for that city."""
    from civicgrid.events.services import request_digest

    if not system.may(Permission.REPORTS_WRITE):
        raise NotAllowed("this system may not send upward reports")
    city, month = str(data.get("city_code") or ""), str(data.get("month") or "")
    if not re.fullmatch(r"\d{4}", city):
        raise BadPush("city_code must be a 4-digit city code")
    month_span(month)
    if not covers(system.region_prefixes or [], city):
        raise NotAllowed(f"this system may not report for city {city}")
    for part in ("events", "disputes", "peace_index"):
        if not isinstance(data.get(part), dict):
            raise BadPush(f"{part} must be an object")
    digest = request_digest({k: v for k, v in data.items() if k != "generated_at"}, [])
    with transaction.atomic():
        report, created = CityReport.objects.select_for_update().get_or_create(
            city_code=city,
            month=month,
            defaults={"system": system, "payload": data, "digest": digest},
        )
        if not created and report.digest != digest:
            report.system, report.payload, report.digest = system, data, digest
            report.save()
        audit_record(
            actor=None,
            action="exchange.city_report",
            obj=report,
            region_code=city,
            changes={"system": [None, system.code], "month": [None, month]},
        )
    return {"city_code": city, "month": month, "stored": True}, created


def reports_side_by_side(user: Any, month: str) -> list[CityReport]:
    """The month's city reports of the cities the user's scope covers (province
    staff see every city of the province, a city's staff their own)."""
    prefixes = list(getattr(user, "scope_prefixes", []) or [])
    return list(
        CityReport.objects.filter(month=month)
        .filter(prefixes_q(prefixes, "city_code"))
        .order_by("city_code")
    )
