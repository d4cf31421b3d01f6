"""Writes of the disputes domain outside the workflow steps: intake, the registry of
organisations and mediators, recusal and leader ownership. (Consultations, files and
ratings have their own modules: consultations.py, attachments.py, ratings.py.)"""

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role, User
from civicgrid.core import crypto
from civicgrid.core.audit import audit_record
from civicgrid.core.counters import daily_number
from civicgrid.core.personal import id_number_is_valid
from civicgrid.core.scope import covers
from civicgrid.disputes import risk, selectors
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import (
    LEVEL_PREFIX,
    Case,
    CaseAction,
    CaseCounter,
    CaseSource,
    CenterLevel,
    Channel,
    DisputeType,
    MediationOrganisation,
    Mediator,
    Party,
    Recusal,
)
from civicgrid.disputes.workflow import deadline_for, definition_of, workflow_for_city
from civicgrid.regions.models import Region

INTAKE_ROLES = {Role.CENTER_STAFF, Role.GRID_WORKER, Role.LEADER, Role.MEDIATOR}
MAX_AMOUNT = Decimal("1e12")

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_is_valid(value: str) -> bool:
    """GB 32100-2015 unified social credit code: 18 characters, MOD 31 check."""
    v = value.strip().upper()
    if len(v) != 18 or any(c not in _USCC_CHARS for c in v):
        return False
    total = sum(
        _USCC_CHARS.index(c) * w for c, w in zip(v[:17], _USCC_WEIGHTS, strict=True)
    )
    return _USCC_CHARS[(31 - total % 31) % 31] == v[17]


def _label(actor: Any) -> str:
    return (
        actor.get_username()
        if actor is not None and actor.is_authenticated
        else "system"
    )


def next_case_code(city_code: str) -> str:
    """``MD3703-20261130-0007``: the city, the local day, the day's sequence number."""
    day, n = daily_number(CaseCounter, city_code)
    return f"MD{city_code}-{day:%Y%m%d}-{n:04d}"


def clean_parties(parties: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check the parties: at least two, each with a valid identity (a person's ID
    number, an organisation's credit code); the first problem is refused."""
    if len(parties) < 2:
        raise DisputeError(_("A dispute needs at least two parties."), field="parties")
    out = []
    for i, p in enumerate(parties, start=1):
        kind = p.get("kind") or Party.Kind.PERSON
        if kind not in Party.Kind.values:
            raise DisputeError(
                _("Party %(n)d: unknown kind.") % {"n": i}, field="parties"
            )
        name = str(p.get("name") or "").strip()
        ident = str(p.get("id_number") or "").strip().upper()
        if not name:
            raise DisputeError(
                _("Party %(n)d: the name is missing.") % {"n": i}, field="parties"
            )
        if not ident:
            raise DisputeError(
                _("Party %(n)d: the identity number is missing.") % {"n": i},
                field="parties",
            )
        valid = (
            id_number_is_valid(ident)
            if kind == Party.Kind.PERSON
            else credit_code_is_valid(ident)
        )
        if not valid:
            raise DisputeError(
                _(
                    "Party %(n)d: the identity number fails its check digit (GB 11643 / GB 32100)."
                )
                % {"n": i},
                field="parties",
            )
        side = p.get("side") or (
            Party.Side.APPLICANT if i == 1 else Party.Side.RESPONDENT
        )
        if side not in Party.Side.values:
            raise DisputeError(
                _("Party %(n)d: unknown side.") % {"n": i}, field="parties"
            )
        out.append(
            {
                "kind": kind,
                "side": side,
                "name": name[:60],
                "id_number": ident,
                "phone": str(p.get("phone") or "")[:20],
                "vulnerable": bool(p.get("vulnerable", False)),
            }
        )
    if len({p["id_number"] for p in out}) != len(out):
        raise DisputeError(_("The same identity is given twice."), field="parties")
    return out


def may_register_in(actor: Any, region_code: str) -> bool:
    """Staff whose scope holds the area (a grid worker: the village of the grid)."""
    if getattr(actor, "is_superuser", False):
        return True
    for role, prefix in actor.posts.filter(active=True).values_list(
        "role", "region_code"
    ):
        if role not in INTAKE_ROLES:
            continue
        if region_code.startswith(prefix):
            return True
        if role == Role.GRID_WORKER and prefix.startswith(region_code):
            return True
    return False


def case_intake(
    *,
    actor: Any,
    source: str,
    region_code: str,
    level: str,
    dispute_type: str,
    title: str,
    narrative: str,
    parties: Sequence[Mapping[str, Any]],
    amount: Decimal | str | int = 0,
    violence_threatened: bool = False,
    event_code: str = "",
    referred_by: str = "",
) -> Case:
    """Register a dispute case (the entry gate starts: it must be diverted within
    its time limit), grade its risk and write the first step of its timeline."""
    if source not in CaseSource.values:
        raise DisputeError(_("Unknown source."), field="source")
    if dispute_type not in DisputeType.values:
        raise DisputeError(_("Unknown dispute type."), field="dispute_type")
    if level not in CenterLevel.values:
        raise DisputeError(_("Unknown center level."), field="level")
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        raise DisputeError(_("The amount must be a number."), field="amount") from None
    if not Decimal(0) <= amount < MAX_AMOUNT:
        raise DisputeError(_("The amount is out of range."), field="amount")
    if not title.strip() or not narrative.strip():
        raise DisputeError(_("Title and narrative are required."), field="narrative")
    event = None
    if source == CaseSource.EVENT:
        from civicgrid.events.selectors import events_visible

        event = events_visible(actor).filter(code=event_code).first()
        if event is None:
            raise DisputeError(_("No such event in your scope."), field="event")
        region_code = event.region_code[:12]
    region = Region.objects.filter(region_code=region_code).first()
    if region is None or region.level in ("province",):
        raise DisputeError(_("Unknown area."), field="region")
    if LEVEL_PREFIX[level] > len(region.region_code):
        raise DisputeError(
            _("A %(level)s center cannot take a case of a larger area.")
            % {"level": CenterLevel(level).label},
            field="level",
        )
    if not may_register_in(actor, region.region_code):
        raise NotPermitted(_("This area is outside your scope."))
    clean = clean_parties(parties)
    with transaction.atomic():
        wf = workflow_for_city(region.city_code)
        definition = definition_of(wf.pk)
        case = Case.objects.create(
            code=next_case_code(region.city_code),
            city_code=region.city_code,
            region_code=region.region_code,
            level=level,
            source=source,
            event=event,
            referred_by=referred_by[:100],
            dispute_type=dispute_type,
            amount=amount,
            title=title.strip()[:200],
            narrative=narrative.strip()[:8000],
            violence_threatened=violence_threatened,
            workflow=wf,
            state=definition.initial,
            deadline_at=deadline_for(definition, definition.initial_limit),
            deadline_kind=definition.initial_limit or "",
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        Party.objects.bulk_create(
            [
                Party(case=case, id_index=crypto.blind_index(p["id_number"]), **p)
                for p in clean
            ]
        )
        CaseAction.objects.create(
            case=case,
            transition="register",
            from_state="",
            to_state=case.state,
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=_label(actor),
            data={"source": source, "event": event.code if event else ""},
            deadline_at=case.deadline_at,
        )
        risk.assess(case, step="register")
        case.save()
        audit_record(
            actor=actor,
            action="disputes.case.register",
            obj=case,
            changes={"state": [None, case.state], "parties": [None, len(clean)]},
        )
    return case


# --- the registry ------------------------------------------------------------------


def organisation_create(
    *,
    actor: Any,
    name: str,
    channel: str,
    level: str,
    region: Region,
    fields: Sequence[str] = (),
) -> MediationOrganisation:
    if channel not in Channel.values or level not in CenterLevel.values:
        raise DisputeError(_("Unknown channel or level."), field="channel")
    if any(f not in DisputeType.values for f in fields):
        raise DisputeError(_("Unknown dispute type."), field="fields")
    with transaction.atomic():
        org = MediationOrganisation.objects.create(
            name=name,
            channel=channel,
            level=level,
            region=region,
            region_code=region.region_code,
            city_code=region.city_code,
            fields=list(fields),
        )
        audit_record(actor=actor, action="disputes.organisation.create", obj=org)
    return org


def mediator_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    regions: Sequence[str],
    specialties: Sequence[str] = (),
    organisation: MediationOrganisation | None = None,
    user: User | None = None,
    qualifications: str = "",
    max_load: int = 10,
    available: bool = True,
) -> Mediator:
    _check_profile(kind, specialties, regions, max_load)
    with transaction.atomic():
        m = Mediator.objects.create(
            name=name,
            kind=kind,
            regions=list(regions),
            region_code=regions[0],
            city_code=regions[0][:4],
            specialties=list(specialties),
            organisation=organisation,
            user=user,
            qualifications=qualifications,
            max_load=max_load,
            available=available,
        )
        audit_record(actor=actor, action="disputes.mediator.create", obj=m)
    return m


def _check_profile(
    kind: str, specialties: Sequence[str], regions: Sequence[str], max_load: int
) -> None:
    if kind not in Mediator.Kind.values:
        raise DisputeError(_("Unknown kind."), field="kind")
    if any(s not in DisputeType.values for s in specialties):
        raise DisputeError(_("Unknown dispute type."), field="specialties")
    known = set(
        Region.objects.filter(region_code__in=list(regions)).values_list(
            "region_code", flat=True
        )
    )
    if not regions or any(r not in known for r in regions):
        raise DisputeError(_("Unknown area."), field="regions")
    if not 1 <= max_load <= 32767:  # the column's range
        raise DisputeError(
            _("The maximum of open cases must be a positive whole number."),
            field="max_load",
        )


MEDIATOR_FIELDS = (
    "kind",
    "regions",
    "specialties",
    "organisation",
    "qualifications",
    "max_load",
    "available",
    "user",
)


def mediator_update(
    *, actor: Any, mediator: Mediator, scope: Sequence[str], **changes: Any
) -> Mediator:
    """Change a pool member's profile: any of MEDIATOR_FIELDS (the name and home
    area are who the member is; the first of ``regions`` is the home). Scoped:
    every area the member serves, before and after, lies in ``scope``. The audit
    names each changed field with its old and new value (ids for the organisation
    and the account). An account of another member is refused."""
    unknown = set(changes) - set(MEDIATOR_FIELDS)
    if unknown:
        raise DisputeError(_("Unknown field."), field=sorted(unknown)[0])
    with transaction.atomic():
        m = Mediator.objects.select_for_update().get(pk=mediator.pk)
        new = {f: changes.get(f, getattr(m, f)) for f in MEDIATOR_FIELDS}
        new["regions"] = list(new["regions"])
        new["specialties"] = list(new["specialties"])
        if not all(covers(scope, r) for r in [*m.regions, *new["regions"]]):
            raise NotPermitted(_("This pool member serves areas outside your scope."))
        if new["regions"][:1] != m.regions[:1]:
            raise DisputeError(
                _("The home area is who the member is; add a new member."),
                field="regions",
            )
        _check_profile(
            new["kind"], new["specialties"], new["regions"], int(new["max_load"])
        )
        user = new["user"]
        if (
            user is not None
            and Mediator.objects.filter(user=user).exclude(pk=m.pk).exists()
        ):
            raise DisputeError(
                _("The account belongs to another pool member."), field="user"
            )
        diff: dict[str, list[Any]] = {}
        for f in MEDIATOR_FIELDS:
            before, after = getattr(m, f), new[f]
            if f in ("organisation", "user"):
                before = getattr(m, f"{f}_id")
                after = after.pk if after is not None else None
            if before != after:
                diff[f] = [before, after]
                setattr(m, f, new[f])
        if not diff:
            return m
        m.save(update_fields=list(diff))
        audit_record(
            actor=actor, action="disputes.mediator.update", obj=m, changes=diff
        )
    return m


# --- recusal, leaders, consultations ----------------------------------------------


def recusal_record(
    *, actor: Any, case: Case, mediator: Mediator, reason: str
) -> Recusal:
    """Exclude a mediator related to a party (回避); an assigned one is released."""
    if not reason.strip():
        raise DisputeError(_("A recusal needs its reason."), field="reason")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if mediator.pk != case.mediator_id and not selectors.serves(mediator, case):
            raise DisputeError(
                _("This mediator does not serve the case's area."), field="mediator"
            )
        if Recusal.objects.filter(case=case, mediator=mediator).exists():
            raise DisputeError(_("This mediator is already recused."), field="mediator")
        rec = Recusal.objects.create(
            case=case, mediator=mediator, reason=reason.strip()[:300], recorded_by=actor
        )
        released = case.mediator_id == mediator.pk
        if released:
            case.mediator = None
            case.version += 1
            case.save(update_fields=["mediator", "version", "updated_at"])
        audit_record(
            actor=actor,
            action="disputes.case.recusal",
            obj=case,
            changes={"recused": [None, mediator.pk], "released": [None, released]},
        )
    return rec


def case_assign_leader(*, actor: Any, case: Case, leader: User) -> Case:
    """A leader takes ownership of a hard case (领导包案)."""
    if not (
        leader.is_superuser
        or leader.posts.filter(active=True, role=Role.LEADER).exists()
    ):
        raise DisputeError(_("Only a leader may own a case."), field="leader")
    if not any(case.region_code.startswith(p) for p in leader.scope_prefixes):
        raise DisputeError(_("The leader does not serve this area."), field="leader")
    with transaction.atomic():
        before = case.leader_id
        case.leader = leader
        case.version += 1
        case.save(update_fields=["leader", "version", "updated_at"])
        audit_record(
            actor=actor,
            action="disputes.case.leader",
            obj=case,
            changes={"leader": [before, leader.pk]},
        )
    return case
