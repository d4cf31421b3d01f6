"""Overdue warnings on dispute cases (滨州 three gates): the entry gate's time limit
(every case registered and diverted in time) and each handling step's (assignment,
mediation, follow-up, referral, verification). A yellow warning once a configurable
share of the step's time is used goes to the handlers (the center of the case's
level, its mediator); a red one once the time is past goes to them and is escalated
to the center one level up and to the owning leader. Each warning is recorded once
per deadline, so the scan may run as often as the scheduler likes.

The follow-ups assigned at a bi-weekly consultation (双周会诊) are watched too: once
the due day has passed, the staff of the unit's department, the centers of the
consultation's area, its chair and the case's owning leader are warned, once per
due day, until the follow-up is recorded as done (``follow_up_scan``)."""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.models import Role, User
from civicgrid.disputes.models import (
    LEVEL_PREFIX,
    Case,
    CaseAction,
    CaseWarning,
    ConsultationItem,
)
from civicgrid.events.notify import notify

LIMIT_LABELS = {
    "divert": gettext_lazy("registration and diversion (entry gate)"),
    "assign": gettext_lazy("assignment of a mediator"),
    "mediate": gettext_lazy("mediation"),
    "follow_up": gettext_lazy("follow-up of the agreement"),
    "refer": gettext_lazy("referral"),
    "verify": gettext_lazy("verification"),
}
CENTER_LENGTHS = (12, 9, 6, 4)


def _centers(prefix: str, memo: dict[str, list[User]]) -> list[User]:
    """The center staff posted exactly at ``prefix`` (looked up once per scan)."""
    if prefix not in memo:
        memo[prefix] = list(
            User.objects.filter(
                posts__role=Role.CENTER_STAFF,
                posts__active=True,
                posts__region_code=prefix,
            ).distinct()
        )
    return list(memo[prefix])


def handlers(case: Case, memo: dict[str, list[User]]) -> tuple[list[User], int]:
    """The center staff nearest the case at or above its level (and its mediator),
    and the prefix length of that center."""
    users: list[User] = []
    level_len = LEVEL_PREFIX[case.level]
    found = 0
    for n in CENTER_LENGTHS:
        if n > level_len or n > len(case.region_code):
            continue
        users = _centers(case.region_code[:n], memo)
        if users:
            found = n
            break
    if case.mediator is not None and case.mediator.user is not None:
        users.append(case.mediator.user)
    return users, found


def escalation(case: Case, center_len: int, memo: dict[str, list[User]]) -> list[User]:
    """The center one level above the handling one, and the owning leader."""
    above = [n for n in CENTER_LENGTHS if n < (center_len or LEVEL_PREFIX[case.level])]
    users: list[User] = []
    for n in above:
        users = _centers(case.region_code[:n], memo)
        if users:
            break
    if case.leader is not None:
        users.append(case.leader)
    return users


def overdue_scan(now: datetime | None = None) -> dict[str, int]:
    """Record and send the yellow and red warnings due now; the counts recorded.
    The messages are in the site's language whatever the caller's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _scan(now or timezone.now())


def _scan(now: datetime) -> dict[str, int]:
    share = float(getattr(settings, "CIVICGRID_YELLOW_SHARE", 0.75))
    counts = {"yellow": 0, "red": 0}
    memo: dict[str, list[User]] = {}  # each area's center staff, once per scan
    # One query: each open case with the start of its current time window (the
    # step that set the deadline, else the registration) and whether each warning
    # is recorded already; only the cases warned now cost more queries.
    stamped = CaseAction.objects.filter(
        case=OuterRef("pk"), deadline_at=OuterRef("deadline_at")
    ).order_by("at")
    warned = CaseWarning.objects.filter(
        case=OuterRef("pk"), deadline_at=OuterRef("deadline_at")
    )
    open_cases = (
        Case.objects.filter(deadline_at__isnull=False)
        .exclude(state="verified")
        .annotate(
            window_start=Coalesce(Subquery(stamped.values("at")[:1]), "created_at"),
            warned_yellow=Exists(warned.filter(kind=CaseWarning.Kind.YELLOW)),
            warned_red=Exists(warned.filter(kind=CaseWarning.Kind.RED)),
        )
        .select_related("mediator__user", "leader", "event")
    )
    for case in open_cases.iterator(chunk_size=500):
        due, start = case.deadline_at, case.window_start  # type: ignore[attr-defined]
        assert due is not None
        if now >= due:
            kind, done = CaseWarning.Kind.RED, case.warned_red  # type: ignore[attr-defined]
        elif now >= start + (due - start) * share:
            kind, done = CaseWarning.Kind.YELLOW, case.warned_yellow  # type: ignore[attr-defined]
        else:
            continue
        if not done:
            counts[kind] += _warn(case, kind, now, memo)
    return counts


def _warn(case: Case, kind: str, now: datetime, memo: dict[str, list[User]]) -> int:
    due = case.deadline_at
    assert due is not None
    limit = LIMIT_LABELS.get(case.deadline_kind, case.deadline_kind)
    when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    people, center_len = handlers(case, memo)
    if kind == CaseWarning.Kind.RED:
        people += escalation(case, center_len, memo)
        text = _(
            "Red warning: dispute case %(code)s is past its time limit for "
            "%(limit)s (due %(due)s); escalated."
        )
    else:
        text = _(
            "Yellow warning: dispute case %(code)s is near its time limit for "
            "%(limit)s (due %(due)s)."
        )
    try:
        with transaction.atomic():
            # The warning row fails (and undoes the messages) if another scan
            # recorded it meanwhile.
            notified = notify(
                people,
                text % {"code": case.code, "limit": limit, "due": when},
                case.event,
            )
            CaseWarning.objects.create(
                case=case,
                kind=kind,
                deadline_kind=case.deadline_kind,
                deadline_at=due,
                state=case.state,
                notified=notified,
                at=now,
            )
    except IntegrityError:
        return 0  # recorded by a scan running at the same time
    return 1


def follow_up_scan(now: datetime | None = None) -> int:
    """Warn about consultation follow-ups whose due day has passed (not recorded
    as done, the case not verified yet); the number of follow-ups warned now."""
    today = timezone.localdate(now or timezone.now())
    with translation.override(settings.LANGUAGE_CODE):
        due = (
            ConsultationItem.objects.filter(
                follow_up_due__lt=today, follow_up_done_at__isnull=True
            )
            .exclude(follow_up_warned=F("follow_up_due"))
            .exclude(case__state="verified")
            .select_related("consultation__chair", "case__leader", "case__event")
            .order_by("follow_up_due", "id")
        )
        memo: dict[str, list[User]] = {}
        return sum(_warn_follow_up(item, memo) for item in due.iterator(500))


def _unit_staff(department_id: int | None, memo: dict[str, list[User]]) -> list[User]:
    """The active staff of the follow-up's department (none for a unit outside the
    system); looked up once per scan."""
    if department_id is None:
        return []
    key = f"department:{department_id}"
    if key not in memo:
        memo[key] = list(
            User.objects.filter(
                posts__department_id=department_id,
                posts__active=True,
                is_active=True,
            ).distinct()
        )
    return list(memo[key])


def _warn_follow_up(item: ConsultationItem, memo: dict[str, list[User]]) -> int:
    c, case = item.consultation, item.case
    due: date = item.follow_up_due  # type: ignore[assignment]
    people = _unit_staff(item.follow_up_department_id, memo)
    for n in CENTER_LENGTHS:  # the nearest center of the consultation's area
        if n <= len(c.region_code):
            centers = _centers(c.region_code[:n], memo)
            if centers:
                people += centers
                break
    people += [c.chair, case.leader] if case.leader else [c.chair]
    text = _(
        "Consultation follow-up overdue: %(unit)s was to follow up dispute case "
        "%(code)s by %(due)s (consultation of %(held_on)s)."
    ) % {
        "unit": item.follow_up_unit,
        "code": case.code,
        "due": due.isoformat(),
        "held_on": c.held_on.isoformat(),
    }
    with transaction.atomic():
        # Claim the warning: a scan running at the same time finds it claimed.
        claimed = (
            ConsultationItem.objects.filter(
                pk=item.pk, follow_up_due=due, follow_up_done_at__isnull=True
            )
            .exclude(follow_up_warned=due)
            .update(follow_up_warned=due)
        )
        if not claimed:
            return 0
        notify(people, text, case.event)
    return 1


def warnings_of(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "kind": w.get_kind_display(),
            "css": w.kind,
            "limit": LIMIT_LABELS.get(w.deadline_kind, w.deadline_kind),
            "deadline_at": w.deadline_at,
            "at": w.at,
        }
        for w in case.warnings.all()
    ]
