"""Reads of dispute cases, always within the caller's scope, and the statistics that
feed assessment (by type, channel, level, outcome; time to resolve; success rate;
high-risk cases prevented from escalating — per area and month)."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth

from civicgrid.accounts.models import Role
from civicgrid.core.scope import prefixes_q
from civicgrid.disputes.models import (
    Case,
    Consultation,
    ConsultationItem,
    MediationOrganisation,
    Mediator,
    MediatorRating,
    Outcome,
    Referral,
)

# Roles that see the cases of their area.
REGION_ROLES = frozenset(
    {Role.CENTER_STAFF, Role.LEADER, Role.SYSADMIN, Role.GRID_WORKER, Role.GRID_LEADER}
)
OPEN_STATES = (
    "registered",
    "diverted",
    "mediating",
    "agreed",
    "failed",
    "broken",
    "referred",
)


def cases_visible(user: Any) -> QuerySet[Case]:
    """Centers, leaders and administrators see the cases of their area; a grid
    worker those of the grid's village; a mediator or expert the cases assigned to
    them; a leader also the cases they own; nobody else any."""
    qs = Case.objects.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_superuser:
        return qs
    q = Q(pk__in=[])
    for role, prefix in user.posts.filter(active=True).values_list(
        "role", "region_code"
    ):
        if role in REGION_ROLES:
            q |= Q(region_code__startswith=prefix)
        if role in (Role.GRID_WORKER, Role.GRID_LEADER):
            q |= Q(region_code__in=[prefix[:n] for n in (12, 9) if len(prefix) > n])
    q |= Q(mediator__user=user) | Q(leader=user)
    return qs.filter(q)


def cases_filtered(qs: QuerySet[Case], params: Mapping[str, str]) -> QuerySet[Case]:
    """List filters: state, type, channel, level, risk, region (prefix), overdue."""
    for param, field in (
        ("state", "state__in"),
        ("type", "dispute_type__in"),
        ("channel", "channel__in"),
        ("level", "level__in"),
        ("risk", "risk_grade__in"),
    ):
        if params.get(param):
            qs = qs.filter(**{field: params[param].split(",")})
    if params.get("region"):
        qs = qs.filter(region_code__startswith=params["region"])
    if params.get("overdue") == "1":
        from django.utils import timezone

        qs = qs.filter(deadline_at__lt=timezone.now())
    return qs


def mediator_load(m: Mediator) -> int:
    """Open cases held now."""
    return m.cases.filter(state__in=OPEN_STATES).count()


def with_load_and_record(qs: QuerySet[Mediator]) -> QuerySet[Mediator]:
    """Each mediator's open cases, ended cases, resolved cases and mean rating, in
    the one query (the pool is ranked without a query per person)."""
    ended = ~Q(cases__outcome="")
    mean = (
        MediatorRating.objects.filter(mediator=OuterRef("pk"))
        .order_by()
        .values("mediator")
        .annotate(a=Avg("score"))
        .values("a")
    )
    return qs.annotate(
        open_cases=Count("cases", filter=Q(cases__state__in=OPEN_STATES)),
        ended_cases=Count("cases", filter=ended),
        resolved_cases=Count("cases", filter=Q(cases__outcome=Outcome.RESOLVED)),
        mean_rating=Subquery(mean),
        n_ratings=Subquery(
            MediatorRating.objects.filter(mediator=OuterRef("pk"))
            .order_by()
            .values("mediator")
            .annotate(n=Count("id"))
            .values("n")
        ),
    )


def record_of(m: Any) -> dict[str, Any]:
    """The record of a mediator annotated by ``with_load_and_record``."""
    n = m.ended_cases
    return {
        "cases": n,
        "success_rate": round(m.resolved_cases / n, 3) if n else None,
        "rating": round(float(m.mean_rating), 2) if m.mean_rating is not None else None,
        "ratings": int(getattr(m, "n_ratings", None) or 0),
    }


def mediator_record(m: Mediator) -> dict[str, Any]:
    """Cases ended, the share resolved, and the parties' mean rating."""
    return record_of(with_load_and_record(Mediator.objects.filter(pk=m.pk)).get())


def mediators_visible(user: Any) -> QuerySet[Mediator]:
    prefixes = list(getattr(user, "scope_prefixes", []))
    q = prefixes_q(prefixes) | Q(region_code__in=_ancestors(prefixes))
    return Mediator.objects.filter(q).select_related("organisation")


def serves(m: Mediator, case: Case) -> bool:
    """Whether one of the regions the pool member serves holds the case's area."""
    return any(p and case.region_code.startswith(p) for p in m.regions)


def recusable(case: Case) -> list[Mediator]:
    """Pool members who might be recused from the case: those serving its area (and
    its assigned mediator), not recused already."""
    pool = Mediator.objects.filter(city_code=case.city_code).exclude(
        pk__in=case.recusals.values("mediator_id")
    )
    return [
        m
        for m in pool.order_by("name", "id")
        if m.pk == case.mediator_id or serves(m, case)
    ]


def _ancestors(prefixes: list[str]) -> list[str]:
    return [p[:n] for p in prefixes for n in (4, 6, 9) if len(p) > n]


def _duration_days(qs: QuerySet[Case]) -> float | None:
    spans = [
        (closed - created).total_seconds() / 86400
        for created, closed in qs.exclude(closed_at=None).values_list(
            "created_at", "closed_at"
        )
        if closed is not None
    ]
    return round(sum(spans) / len(spans), 2) if spans else None


def case_stats(qs: QuerySet[Case], *, area_digits: int = 6) -> dict[str, Any]:
    """Figures over the given (already scoped) cases; ``by_area_month`` groups them by
    the first ``area_digits`` of the region code and by month."""
    ended = qs.exclude(outcome="")
    resolved = ended.filter(outcome=Outcome.RESOLVED)

    def counts(field: str) -> dict[str, int]:
        return {
            str(row[field] or ""): row["n"]
            for row in qs.values(field).annotate(n=Count("id")).order_by(field)
        }

    high = qs.filter(ever_high_risk=True)
    # Prevented: high-risk cases that ended resolved, or handed to no police or
    # procuratorate (no criminal connection was needed).
    criminal = Referral.objects.filter(
        kind__in=[Referral.Kind.POLICE, Referral.Kind.PROCURATORATE]
    ).values("case_id")
    prevented = high.exclude(outcome="").exclude(pk__in=criminal)
    by_area_month: dict[str, dict[str, Any]] = {}
    rows = (
        qs.annotate(month=TruncMonth("created_at"))
        .values_list("region_code", "month", "outcome", "ever_high_risk", "pk")
        .order_by()
    )
    criminal_ids = set(criminal.values_list("case_id", flat=True))
    for region_code, month, outcome, ever_high, pk in rows:
        key = f"{region_code[:area_digits]}|{month:%Y-%m}"
        cell = by_area_month.setdefault(
            key,
            {
                "area": region_code[:area_digits],
                "month": f"{month:%Y-%m}",
                "cases": 0,
                "ended": 0,
                "resolved": 0,
                "high_risk": 0,
                "prevented": 0,
            },
        )
        cell["cases"] += 1
        cell["ended"] += bool(outcome)
        cell["resolved"] += outcome == Outcome.RESOLVED
        cell["high_risk"] += bool(ever_high)
        cell["prevented"] += bool(ever_high and outcome and pk not in criminal_ids)
    n_ended = ended.count()
    return {
        "cases": qs.count(),
        "by_type": counts("dispute_type"),
        "by_channel": counts("channel"),
        "by_level": counts("level"),
        "by_outcome": counts("outcome"),
        "by_state": counts("state"),
        "mean_days_to_close": _duration_days(qs),
        "success_rate": round(resolved.count() / n_ended, 3) if n_ended else None,
        "high_risk": high.count(),
        "high_risk_prevented": prevented.count(),
        "by_area_month": sorted(
            by_area_month.values(), key=lambda c: (c["area"], c["month"])
        ),
    }


def workbench_count(user: Any) -> int:
    """Open cases the user may see: the workbench's dispute tab count
    (civicgrid.web.queues.dispute_slot)."""
    return cases_visible(user).filter(state__in=OPEN_STATES).count()


CENTER_ROLES = frozenset({Role.CENTER_STAFF, Role.LEADER})


def center_prefixes(user: Any) -> list[str]:
    """The areas where the user acts as a center officer or leader (the superuser:
    everywhere): they open consultations, grant subsidies, record recusals there."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return [""]
    return [
        prefix
        for role, prefix in user.posts.filter(active=True).values_list(
            "role", "region_code"
        )
        if role in CENTER_ROLES
    ]


def consultations_visible(user: Any) -> QuerySet[Consultation]:
    """The sessions of the user's areas, and those that assigned a follow-up to a
    department the user serves in."""
    prefixes = list(getattr(user, "scope_prefixes", []))
    q = prefixes_q(prefixes)
    if getattr(user, "is_authenticated", False):
        q |= Q(pk__in=follow_ups_of(user).values("consultation_id"))
    return Consultation.objects.filter(q).select_related("chair")


def follow_ups_of(user: Any) -> QuerySet[ConsultationItem]:
    """Follow-ups assigned to the departments where the user holds an active post,
    the open ones first, nearest due day first."""
    departments = user.posts.filter(active=True, department__isnull=False).values(
        "department_id"
    )
    return (
        ConsultationItem.objects.filter(follow_up_department_id__in=departments)
        .select_related("consultation", "case")
        .order_by(F("follow_up_done_at").desc(nulls_first=True), "follow_up_due", "id")
    )


def organisations_visible(user: Any) -> QuerySet[MediationOrganisation]:
    """Organisations of the user's areas or of an area above them (a county's
    organisation serves its towns)."""
    prefixes = list(getattr(user, "scope_prefixes", []))
    q = prefixes_q(prefixes) | Q(region_code__in=_ancestors(prefixes))
    return MediationOrganisation.objects.filter(q)


def ratings_of(m: Mediator, user: Any) -> QuerySet[MediatorRating]:
    """The mediator's ratings on the cases the user sees, newest first."""
    return (
        MediatorRating.objects.filter(mediator=m, case__in=cases_visible(user))
        .select_related("case", "party")
        .order_by("-at", "-id")[:100]
    )
