"""Ratings of a case's mediator (满意度评价). Decided: not only at close. A rating is
given once mediation has ended — an agreement signed, mediation failed, or the case
referred or closed — because that is when the parties know how they were served, and
because a case resolved by agreement is closed by its follow-up, not by a ``close``
step (so ratings taken only at close never reached the successful mediators). Each
party rates once (the officer records it at the return visit, 回访) and the center
officer once; the mediator's record is the mean of all of them."""

from typing import Any

from django.db import transaction
from django.db.models import Avg
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.core.scope import covers
from civicgrid.disputes import selectors
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import Case, MediatorRating, Party

ENDED_MEDIATION = frozenset(
    {"agreed", "failed", "broken", "referred", "closed", "verified"}
)


def may_rate(actor: Any, case: Case) -> bool:
    return covers(selectors.center_prefixes(actor), case.region_code)


def rating_record(
    *,
    actor: Any,
    case: Case,
    score: Any,
    party: Party | None = None,
    comment: str = "",
) -> MediatorRating:
    """Record a party's rating (``party`` given) or the officer's own (no party)."""
    if not may_rate(actor, case):
        raise NotPermitted(_("Your role may not do this."))
    mediator_id = case.mediator_id
    if mediator_id is None:
        raise DisputeError(_("The case had no mediator."), field="case")
    if case.state not in ENDED_MEDIATION:
        raise DisputeError(
            _("The mediator is rated once mediation has ended."), field="case"
        )
    if str(score) not in {"1", "2", "3", "4", "5"}:
        raise DisputeError(_("rating must be 1 to 5."), field="score")
    if party is not None and party.case_id != case.pk:
        raise DisputeError(_("No such party on this case."), field="party")
    rater = MediatorRating.Rater.PARTY if party else MediatorRating.Rater.OFFICER
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        done = MediatorRating.objects.filter(
            case=case, mediator_id=mediator_id, rater=rater, party=party
        )
        if done.exists():
            raise DisputeError(_("This rating is already recorded."), field="party")
        row = MediatorRating.objects.create(
            case=case,
            mediator_id=mediator_id,
            rater=rater,
            party=party,
            score=int(score),
            comment=comment.strip()[:500],
            recorded_by=actor,
        )
        mean = case.ratings.aggregate(a=Avg("score"))["a"]
        case.rating = round(mean) if mean is not None else None
        case.save(update_fields=["rating", "updated_at"])
        audit_record(
            actor=actor,
            action="disputes.mediator.rating",
            obj=case,
            changes={"mediator": case.mediator_id, "rater": rater, "score": int(score)},
        )
    return row
