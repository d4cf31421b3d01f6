"""What each effect of the dispute workflow does to a case (the gates' records).

Each function checks its data, writes its record and may return a deadline that
replaces the transition's own (the follow-up falls due when the agreement is to be
performed). They run inside the engine's transaction: a refusal writes nothing.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import (
    Agreement,
    Case,
    Channel,
    JudicialConfirmation,
    MediationOrganisation,
    MediationSession,
    Mediator,
    Outcome,
    Recusal,
    Referral,
)
from civicgrid.disputes.selectors import mediator_load

# An effect may return (limit kind, deadline) to replace the transition's own.
Override = tuple[str, datetime | None] | None
Effect = Callable[[Case, dict[str, Any], Any], Override]


def _date(data: dict[str, Any], key: str) -> date:
    value = data.get(key)
    d = value if isinstance(value, date) else parse_date(str(value or ""))
    if d is None:
        raise DisputeError(
            _("%(field)s must be a date (YYYY-MM-DD).") % {"field": key}, field=key
        )
    return d


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = str(data.get(key, "")).strip()
    if len(value) > limit:
        raise DisputeError(
            _("%(field)s is longer than %(n)d characters.")
            % {"field": key, "n": limit},
            field=key,
        )
    return value


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59)))


def divert(case: Case, data: dict[str, Any], actor: Any) -> Override:
    if data["channel"] not in Channel.values:
        raise DisputeError(_("Unknown channel."), field="channel")
    org = None
    if data.get("organisation"):
        org = MediationOrganisation.objects.filter(
            pk=int(data["organisation"]) if str(data["organisation"]).isdigit() else 0,
            active=True,
        ).first()
        if org is None or not case.region_code.startswith(org.region_code):
            raise DisputeError(
                _("The organisation does not serve this case's area."),
                field="organisation",
            )
        if org.channel != data["channel"]:
            raise DisputeError(
                _("The organisation belongs to another channel."), field="organisation"
            )
    now = timezone.now()
    # The entry gate: was the case diverted within its time limit?
    data["on_time"] = case.deadline_at is None or now <= case.deadline_at
    case.channel, case.organisation, case.diverted_at = data["channel"], org, now
    return None


def assign(case: Case, data: dict[str, Any], actor: Any) -> Override:
    raw = str(data["mediator"])
    m = Mediator.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
    if m is None or m.city_code != case.city_code:
        raise DisputeError(_("Unknown mediator."), field="mediator")
    recusal = Recusal.objects.filter(case=case, mediator=m).first()
    if recusal is not None:
        raise DisputeError(
            _("%(name)s is recused from this case: %(reason)s")
            % {"name": m.name, "reason": recusal.reason},
            field="mediator",
        )
    if not m.available:
        raise DisputeError(
            _("%(name)s is not available.") % {"name": m.name}, field="mediator"
        )
    if case.mediator_id != m.pk and mediator_load(m) >= m.max_load:
        raise DisputeError(
            _("%(name)s already holds the most cases allowed.") % {"name": m.name},
            field="mediator",
        )
    data["mediator_name"] = m.name
    case.mediator = m
    return None


def session(case: Case, data: dict[str, Any], actor: Any) -> Override:
    held = parse_datetime(str(data["held_at"]))
    if held is None:
        raise DisputeError(_("held_at must be a date and time."), field="held_at")
    if timezone.is_naive(held):
        held = timezone.make_aware(held)
    if held > timezone.now() + timedelta(hours=1):
        raise DisputeError(
            _("A session cannot be recorded before it is held."), field="held_at"
        )
    MediationSession.objects.create(
        case=case,
        held_at=held,
        place=_text(data, "place", 200),
        participants=_text(data, "participants", 500),
        minutes=_text(data, "minutes", 8000),
    )
    return None


def agree(case: Case, data: dict[str, Any], actor: Any) -> Override:
    if not case.sessions.exists():
        raise DisputeError(
            _("Record at least one mediation session before the agreement."),
            field="transition",
        )
    signed, perform_by = _date(data, "signed_on"), _date(data, "perform_by")
    if perform_by < signed:
        raise DisputeError(
            _("The agreement cannot be due before it is signed."), field="perform_by"
        )
    Agreement.objects.create(
        case=case,
        terms=_text(data, "terms", 8000),
        signed_on=signed,
        perform_by=perform_by,
    )
    case.follow_ups.create(due_on=perform_by)
    return ("follow_up", _end_of(perform_by))


def fail(case: Case, data: dict[str, Any], actor: Any) -> Override:
    _text(data, "reason", 4000)
    return None


def request_confirmation(case: Case, data: dict[str, Any], actor: Any) -> Override:
    if JudicialConfirmation.objects.filter(case=case).exists():
        raise DisputeError(
            _("Judicial confirmation was already requested."), field="court"
        )
    JudicialConfirmation.objects.create(
        case=case,
        court=_text(data, "court", 100),
        requested_on=_date(data, "requested_on"),
    )
    return None


def record_confirmation(case: Case, data: dict[str, Any], actor: Any) -> Override:
    jc = JudicialConfirmation.objects.filter(case=case).first()
    if jc is None:
        raise DisputeError(_("No judicial confirmation was requested."), field="result")
    if data["result"] not in ("confirmed", "rejected"):
        raise DisputeError(_("result must be confirmed or rejected."), field="result")
    if jc.result != JudicialConfirmation.Result.PENDING:
        raise DisputeError(_("The court's ruling is already recorded."), field="result")
    jc.result = data["result"]
    jc.ruling_number = _text(data, "ruling_number", 60)
    jc.decided_on = timezone.localdate()
    jc.save()
    return None


def follow_up(case: Case, data: dict[str, Any], actor: Any) -> Override:
    if data["kept"] not in ("yes", "no"):
        raise DisputeError(_("kept must be yes or no."), field="kept")
    kept = data["kept"] == "yes"
    check = case.follow_ups.filter(done_at__isnull=True).order_by("due_on").first()
    if check is None:
        check = case.follow_ups.create(due_on=timezone.localdate())
    check.done_at, check.kept = timezone.now(), kept
    check.note = _text(data, "note", 1000)
    check.save()
    if kept:
        case.outcome = Outcome.RESOLVED
        return ("verify", None)
    return None


def refer(case: Case, data: dict[str, Any], actor: Any) -> Override:
    if data["kind"] not in Referral.Kind.values:
        raise DisputeError(
            _("kind must be one of %(kinds)s.")
            % {"kinds": ", ".join(Referral.Kind.values)},
            field="kind",
        )
    Referral.objects.create(
        case=case,
        kind=data["kind"],
        receiving_body=_text(data, "receiving_body", 100),
        reason=_text(data, "reason", 1000),
    )
    return None


def close(case: Case, data: dict[str, Any], actor: Any) -> Override:
    outcome = data["outcome"]
    if outcome not in Outcome.values:
        raise DisputeError(_("Unknown outcome."), field="outcome")
    if outcome == Outcome.RESOLVED:
        raise DisputeError(
            _("A case is resolved only when the follow-up finds its agreement kept."),
            field="outcome",
        )
    if outcome == Outcome.REFERRED and not case.referrals.exists():
        raise DisputeError(_("The case was not referred on."), field="outcome")
    _text(data, "reason", 4000)
    case.outcome = outcome
    return None


def verify(case: Case, data: dict[str, Any], actor: Any) -> Override:
    case.verified_at = timezone.now()
    return None


EFFECTS: dict[str, Effect] = {
    "divert": divert,
    "assign": assign,
    "session": session,
    "agree": agree,
    "fail": fail,
    "request_confirmation": request_confirmation,
    "record_confirmation": record_confirmation,
    "follow_up": follow_up,
    "refer": refer,
    "close": close,
    "verify": verify,
}
