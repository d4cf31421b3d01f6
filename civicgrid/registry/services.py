"""Writes of the registry: information collections (a household registered or
updated with its members) and household visits. Each runs in one transaction, is
audited (without personal data), and is idempotent on its Idempotency-Key: the same
key and body give the first result again, the same key with another body is refused.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point

from civicgrid.core import scope
from civicgrid.core.audit import audit_record
from civicgrid.core.idempotency import replay
from civicgrid.core.idempotency import request_digest as request_digest
from civicgrid.core.personal import blind_match, id_number_is_valid
from civicgrid.core.reveal import can_unmask
from civicgrid.events.models import Source
from civicgrid.events.services import event_report
from civicgrid.events.uploads import Photo
from civicgrid.regions.crs import valid_lon_lat
from civicgrid.regions.models import Grid
from civicgrid.registry.errors import (
    OutsideScope,
    RegistryError,
    StaleHousehold,
)
from civicgrid.registry.models import (
    RESTRICTED_GROUPS,
    Collection,
    Household,
    HouseKind,
    Person,
    Relation,
    Residence,
    SpecialGroup,
    Visit,
    VisitKind,
    VisitPhoto,
)

PHONE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
HOUSEHOLD_FIELDS = ("address", "kind", "lon", "lat", "note")
PERSON_FIELDS = ("name", "id_number", "phone", "relation", "residence", "groups")
# A visit recorded offline reaches the server later; one from the future is a
# wrong phone clock, one older than this is not a visit any more but a memory.
CLOCK_SKEW = timedelta(minutes=10)
OLDEST_VISIT = timedelta(days=90)


def _in_scope(actor: Any, code: str) -> None:
    if not scope.covers(getattr(actor, "scope_prefixes", []), code):
        raise OutsideScope(code)


def _position(
    lon: Any, lat: Any, field: str = "lon"
) -> tuple[float | None, float | None]:
    if lon in (None, "") and lat in (None, ""):
        return None, None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise RegistryError(
            _("longitude and latitude go together"), field=field
        ) from None
    if not valid_lon_lat(x, y):
        raise RegistryError(
            _("longitude must be within ±180 and latitude within ±90"), field=field
        )
    return x, y


# --- information collection ------------------------------------------------------


def _household_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "address" in fields:
        address = str(fields["address"] or "").strip()
        if not address:
            raise RegistryError(_("the address is required"), field="address")
        out["address"] = address[:200]
    if "kind" in fields:
        if fields["kind"] not in HouseKind.values:
            raise RegistryError(
                _("unknown dwelling %(v)r") % {"v": fields["kind"]}, field="kind"
            )
        out["kind"] = fields["kind"]
    if "lon" in fields or "lat" in fields:
        out["lon"], out["lat"] = _position(fields.get("lon"), fields.get("lat"))
    if "note" in fields:
        out["note"] = str(fields["note"] or "")[:500]
    return out


def _person_values(entry: Mapping[str, Any], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    where = f"persons[{n}]"
    if "name" in entry:
        name = str(entry["name"] or "").strip()
        if not name:
            raise RegistryError(
                f"{where}: {_('the name is required')}", field="persons"
            )
        out["name"] = name[:50]
    if "id_number" in entry:
        number = str(entry["id_number"] or "").strip().upper()
        if number and not id_number_is_valid(number):
            raise RegistryError(
                f"{where}: {_('invalid ID number (GB 11643 check digit)')}",
                field="persons",
            )
        out["id_number"] = number
    if "phone" in entry:
        phone = str(entry["phone"] or "").strip()
        if phone and not PHONE.match(phone):
            raise RegistryError(
                f"{where}: {_('invalid phone number')}", field="persons"
            )
        out["phone"] = phone
    for key, choices in (("relation", Relation), ("residence", Residence)):
        if key in entry:
            if entry[key] not in choices.values:
                raise RegistryError(
                    f"{where}: "
                    + _("unknown %(key)s %(v)r") % {"key": key, "v": entry[key]},
                    field="persons",
                )
            out[key] = entry[key]
    if "groups" in entry:
        groups = entry["groups"] or []
        if not isinstance(groups, list) or any(
            g not in SpecialGroup.values for g in groups
        ):
            raise RegistryError(
                f"{where}: {_('unknown special group')}", field="persons"
            )
        out["groups"] = Person.groups_text(groups)
    if "active" in entry:
        out["active"] = bool(entry["active"])
    return out


def _id_taken(city_code: str, number: str, person_id: int | None) -> bool:
    others = Person.objects.filter(
        blind_match("id_index", number), city_code=city_code, active=True
    )
    if person_id is not None:
        others = others.exclude(pk=person_id)
    return others.exists()


def _kept_groups(actor: Any, person: Person, groups: str) -> str:
    """An update of a member's groups by someone who may not see the restricted
    groups (they are not shown to them) keeps the restricted groups the member has."""
    if person.pk is None or can_unmask(actor):
        return groups
    hidden = [g for g in person.group_list if g in RESTRICTED_GROUPS]
    return Person.groups_text([g for g in groups.split(",") if g] + hidden)


def _apply_persons(
    household: Household, persons: Sequence[Mapping[str, Any]], actor: Any = None
) -> dict[str, Any]:
    added, updated = 0, {}
    for n, entry in enumerate(persons):
        values = _person_values(entry, n)
        number = values.get("id_number")
        if entry.get("id"):
            person = household.persons.filter(pk=entry["id"]).first()
            if person is None:
                raise RegistryError(
                    f"persons[{n}]: {_('not a member of this household')}",
                    field="persons",
                )
        else:
            if "name" not in values:
                raise RegistryError(
                    f"persons[{n}]: {_('the name is required')}", field="persons"
                )
            person = Person(
                household=household,
                region_code=household.region_code,
                city_code=household.city_code,
            )
        if (
            number
            and values.get("active", person.active)
            and _id_taken(household.city_code, number, person.pk)
        ):
            raise RegistryError(
                f"persons[{n}]: "
                + _("this ID number is already registered in the city"),
                field="persons",
            )
        if "groups" in values:
            values["groups"] = _kept_groups(actor, person, values["groups"])
        changed = sorted(k for k, v in values.items() if getattr(person, k) != v)
        for key, value in values.items():
            setattr(person, key, value)
        if person.pk is None:
            person.save()
            added += 1
        elif changed:
            person.save()
            updated[str(person.pk)] = changed
    return {"persons_added": added, "persons_updated": updated}


def household_collect(
    *,
    actor: Any,
    household: Household | None = None,
    grid: Grid | None = None,
    version: int | None = None,
    fields: Mapping[str, Any] | None = None,
    persons: Sequence[Mapping[str, Any]] = (),
    collected_at: datetime | None = None,
    idempotency_key: str | None = None,
    digest: str = "",
    data_source: str = "collection",
) -> tuple[Collection, bool]:
    """Register a household in ``grid`` or update ``household`` (at ``version``),
    with its members: entries with an ``id`` update that member, others add one.
    Returns (collection, created)."""
    first = replay(Collection, idempotency_key, digest)
    if first is not None:
        return first, False
    values = _household_values(fields or {})
    try:
        with transaction.atomic():
            if household is None:
                if grid is None:
                    raise RegistryError(
                        _("a new household needs its grid"), field="grid"
                    )
                _in_scope(actor, grid.code)
                if "address" not in values:
                    raise RegistryError(_("the address is required"), field="address")
                if Household.objects.filter(
                    grid=grid, address=values["address"]
                ).exists():
                    raise RegistryError(
                        _("a household at this address is already registered"),
                        field="address",
                    )
                household = Household.objects.create(
                    grid=grid,
                    region_code=grid.code,
                    city_code=grid.city_code,
                    data_source=data_source,
                    **values,
                )
                changes: dict[str, Any] = {"household": ["created"]}
            else:
                _in_scope(actor, household.region_code)
                household = Household.objects.select_for_update().get(pk=household.pk)
                if version is None or version != household.version:
                    raise StaleHousehold(household)
                changed = sorted(
                    k for k, v in values.items() if getattr(household, k) != v
                )
                for key in changed:
                    setattr(household, key, values[key])
                if (
                    "address" in changed
                    and Household.objects.filter(
                        grid_id=household.grid_id, address=household.address
                    )
                    .exclude(pk=household.pk)
                    .exists()
                ):
                    raise RegistryError(
                        _("a household at this address is already registered"),
                        field="address",
                    )
                household.version += 1
                household.save()
                changes = {"household": changed}
            changes.update(_apply_persons(household, persons, actor))
            collection = Collection.objects.create(
                household=household,
                region_code=household.region_code,
                worker=actor,
                collected_at=collected_at or timezone.now(),
                changes=changes,
                version=household.version,
                idempotency_key=idempotency_key or None,
                request_digest=digest,
            )
            audit_record(
                actor=actor,
                action="registry.collect",
                obj=household,
                changes={"collection": collection.pk, **changes},
            )
    except IntegrityError:
        first = replay(Collection, idempotency_key, digest)
        if first is not None:  # a concurrent retry won the race
            return first, False
        raise
    return collection, True


# --- visits -----------------------------------------------------------------------


def _event_point(household: Household, lon: float | None, lat: float | None) -> Point:
    """Where a problem found on a visit is reported: the household's position, or
    the visit's, when inside its grid; else a point inside the grid."""
    geometry = household.grid.geometry
    for x, y in ((household.lon, household.lat), (lon, lat)):
        if x is not None and y is not None and geometry.covers(Point(x, y)):
            return Point(x, y)
    return geometry.representative_point()


def visit_record(
    *,
    actor: Any,
    household: Household,
    kind: str = VisitKind.ROUTINE,
    visited_at: datetime | None = None,
    lon: Any = None,
    lat: Any = None,
    notes: str = "",
    follow_up: bool = False,
    follow_up_title: str = "",
    photos: Sequence[Photo] = (),
    idempotency_key: str | None = None,
    digest: str = "",
) -> tuple[Visit, bool]:
    """Record a visit to a household; when it needs a follow-up, report an event
    from the grid worker in the same transaction. Returns (visit, created)."""
    first = replay(Visit, idempotency_key, digest)
    if first is not None:
        return first, False
    _in_scope(actor, household.region_code)
    if kind not in VisitKind.values:
        raise RegistryError(
            _("unknown kind of visit %(v)r") % {"v": kind}, field="kind"
        )
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + CLOCK_SKEW or visited_at < now - OLDEST_VISIT:
        raise RegistryError(
            _("the visit time must lie within the last 90 days"), field="visited_at"
        )
    x, y = _position(lon, lat)
    title = (follow_up_title or "").strip()
    if follow_up and not (title or notes.strip()):
        raise RegistryError(
            _("say what needs following up (a title or notes)"),
            field="follow_up_title",
        )
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                household=household,
                region_code=household.region_code,
                city_code=household.city_code,
                worker=actor,
                visited_at=visited_at,
                kind=kind,
                lon=x,
                lat=y,
                notes=notes,
                follow_up=follow_up,
                idempotency_key=idempotency_key or None,
                request_digest=digest,
            )
            for p in photos:
                photo = VisitPhoto(
                    visit=visit,
                    content_type=p.content_type,
                    size=len(p.content),
                    sha256=p.sha256,
                )
                photo.file.save(
                    f"visit-{visit.pk}-{p.sha256[:12]}.{p.extension}",
                    ContentFile(p.content),
                    save=True,
                )
            if follow_up:
                point = _event_point(household, x, y)
                visit.event, _created = event_report(
                    actor=actor,
                    source=Source.GRID_WORKER,
                    title=(title or notes.strip())[:200],
                    description=notes.strip() or title,
                    lon=point.x,
                    lat=point.y,
                    address=household.address,
                    photos=photos,
                )
                visit.save(update_fields=["event"])
            Household.objects.filter(pk=household.pk).exclude(
                last_visit_at__gt=visited_at
            ).update(last_visit_at=visited_at)
            audit_record(
                actor=actor,
                action="registry.visit",
                obj=visit,
                changes={
                    "household": household.pk,
                    "kind": kind,
                    "photos": len(photos),
                    "event": visit.event.code if visit.event else None,
                },
            )
    except IntegrityError:
        first = replay(Visit, idempotency_key, digest)
        if first is not None:
            return first, False
        raise
    return visit, True
