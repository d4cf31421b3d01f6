"""Personal data over HTTP: unmasking one value (POST /api/v1/personal-data/reveal/:
permission, region scope, a reason, an audit row without the value, never cached),
and the events list's exact lookup by the reporter's phone through its blind index."""

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from civicgrid.core import crypto
from civicgrid.core.api_personal import REVEALABLE
from civicgrid.core.models import AuditRecord
from civicgrid.core.personal import PersonalDataField
from civicgrid.core.tests.test_personal_ops import key_file  # noqa: F401 (fixture)
from civicgrid.disputes.models import Party
from civicgrid.disputes.services import case_intake
from civicgrid.disputes.tests.factories import parties
from civicgrid.events.models import Event
from civicgrid.events.services import event_report
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db

URL = "/api/v1/personal-data/reveal/"
PHONE = "13912345678"
REASON = "回访核实诉求"


def report_in_town_a(actor: Any, phone: str, title: str = "占道经营") -> Event:
    """An event in the first grid of town A (370303001), reported with a phone."""
    grid = Grid.objects.filter(code__startswith="370303001").order_by("code").first()
    assert grid is not None
    p = grid.geometry.representative_point()
    event, _ = event_report(
        actor=actor,
        source="citizen_web",
        title=title,
        description="人行道被摊位占满",
        lon=p.x,
        lat=p.y,
        reporter_phone=phone,
    )
    return event


@pytest.fixture
def event_a(callers: dict[str, Any]) -> Event:
    return report_in_town_a(callers["citizen"].user, PHONE)


def reveal(caller: Any, obj: str, ident: Any, field: str, reason: str = REASON) -> Any:
    body = {"object": obj, "id": ident, "field": field, "reason": reason}
    return caller.client.post(URL, body, format="json")


def reveals() -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action="personal_data.reveal"))


def test_an_officer_of_the_region_sees_the_number_with_a_reason(
    callers: dict[str, Any], event_a: Event
) -> None:
    """The value, never cached, and one audit row naming who, what, why: not the value."""
    response = reveal(callers["town_a"], "events.event", event_a.code, "reporter_phone")

    assert response.status_code == 200, response.content
    assert response.json() == {"value": PHONE}
    assert "no-store" in response["Cache-Control"]
    [row] = reveals()
    assert row.actor_id == callers["town_a"].user.pk
    assert (row.object_type, row.object_id) == ("events.event", str(event_a.pk))
    assert row.changes["reason"] == REASON
    assert row.changes["field"] == "reporter_phone"
    assert PHONE not in str(row.changes) and PHONE[-8:] not in str(row.changes)


@pytest.mark.parametrize("reason", ["", "  ", "看看"])
def test_a_reason_is_required(
    callers: dict[str, Any], event_a: Event, reason: str
) -> None:
    response = reveal(
        callers["town_a"], "events.event", event_a.code, "reporter_phone", reason
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert PHONE.encode() not in response.content and not reveals()


def test_without_the_permission_nothing_is_revealed(
    callers: dict[str, Any], event_a: Event
) -> None:
    """Department staff see the event but may not unmask; citizens neither (even the
    reporter); anonymous callers are refused."""
    for name in ("department", "citizen", "anonymous"):
        response = reveal(callers[name], "events.event", event_a.code, "reporter_phone")
        assert response.status_code == 403, name
        assert PHONE.encode() not in response.content
    assert not reveals()


def test_outside_the_callers_regions_the_record_does_not_exist(
    callers: dict[str, Any], event_a: Event
) -> None:
    """Town B's officer holds the permission but not town A: 404, as for no record."""
    response = reveal(callers["town_b"], "events.event", event_a.code, "reporter_phone")
    assert response.status_code == 404
    missing = reveal(callers["town_b"], "events.event", "NOPE", "reporter_phone")
    assert missing.status_code == 404
    assert response.json().keys() == missing.json().keys()
    assert not reveals()


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ("events.event", "title"),  # not personal data
        ("events.event", "reporter_phone_index"),
        ("accounts.user", "password"),
        ("events.event", "phone"),  # another model's field
        ("core.auditrecord", "changes"),  # not a model of the allow-list
    ],
)
def test_only_the_allowed_fields_can_be_asked_for(
    callers: dict[str, Any], event_a: Event, obj: str, field: str
) -> None:
    response = reveal(callers["superuser"], obj, event_a.pk, field)
    assert response.status_code == 400
    assert not reveals()


def test_the_allow_list_names_only_personal_data() -> None:
    from django.apps import apps

    for label, (_lookup, _region, fields) in REVEALABLE.items():
        model = apps.get_model(label)
        for name in fields:
            assert isinstance(model._meta.get_field(name), PersonalDataField)


def test_a_staff_members_phone_by_the_region_of_their_posts(
    callers: dict[str, Any],
) -> None:
    """A user's regions are their active posts': the county sees town A's officer,
    town B does not; a citizen (no post) is seen by nobody but the superuser."""
    officer = callers["town_a"].user
    officer.phone = "13700001111"
    officer.save()
    citizen = callers["citizen"].user

    assert reveal(callers["county"], "accounts.user", officer.pk, "phone").json() == {
        "value": "13700001111"
    }
    assert (
        reveal(callers["town_b"], "accounts.user", officer.pk, "phone").status_code
        == 404
    )
    assert (
        reveal(callers["county"], "accounts.user", citizen.pk, "phone").status_code
        == 404
    )
    assert (
        reveal(callers["superuser"], "accounts.user", citizen.pk, "phone").status_code
        == 200
    )
    assert reveal(callers["county"], "accounts.user", "x", "phone").status_code == 404


def test_a_dispute_partys_id_number_by_the_cases_region(
    callers: dict[str, Any],
) -> None:
    case = case_intake(
        actor=callers["town_a"].user,
        source="walk_in",
        region_code="370303001",
        level="town",
        dispute_type="neighbours",
        title="相邻通行纠纷",
        narrative="院墙通道",
        parties=parties(),
    )
    party = Party.objects.filter(case=case).order_by("pk").first()
    assert party is not None

    ok = reveal(callers["town_a"], "disputes.party", party.pk, "id_number")
    assert ok.status_code == 200 and ok.json()["value"] == party.id_number
    far = reveal(callers["town_b"], "disputes.party", party.pk, "id_number")
    assert far.status_code == 404
    assert [r.changes["field"] for r in reveals()] == ["id_number"]


# --- the events list's lookup by phone (blind index) -------------------------------


def test_the_blind_index_finds_the_event_by_phone_without_storing_it(
    callers: dict[str, Any], event_a: Event
) -> None:
    """?reporter_phone= finds exactly the event; the index column holds an HMAC, not
    the number; the lookup is audited without the number."""
    report_in_town_a(callers["citizen"].user, "13900000000", title="噪声扰民")
    with connection.cursor() as cur:
        cur.execute("SELECT reporter_phone_index, reporter_phone FROM events_event")
        stored = cur.fetchall()
    assert len(stored) == 2
    for index, ciphertext in stored:
        assert len(index) == 64 and PHONE not in index
        assert PHONE not in ciphertext
    assert {r[0] for r in stored} == {
        crypto.blind_index(PHONE),
        crypto.blind_index("13900000000"),
    }

    response = callers["town_a"].client.get(f"/api/v1/events/?reporter_phone={PHONE}")
    assert response.status_code == 200
    assert [e["code"] for e in response.json()["results"]] == [event_a.code]
    assert PHONE.encode() not in response.content
    none = callers["town_a"].client.get("/api/v1/events/?reporter_phone=13800000000")
    assert none.json()["results"] == []
    lookups = AuditRecord.objects.filter(action="personal_data.lookup")
    assert lookups.count() == 2
    assert all(PHONE not in str(r.changes) for r in lookups)


def test_the_phone_lookup_needs_the_permission(
    callers: dict[str, Any], event_a: Event
) -> None:
    """Department staff may list events, but not look people up by phone: 403 (an
    ignored filter would answer with every event, as if they matched)."""
    response = callers["department"].client.get(
        f"/api/v1/events/?reporter_phone={PHONE}"
    )
    assert response.status_code == 403
    assert callers["department"].client.get("/api/v1/events/").status_code == 200


def test_the_phone_lookup_stays_in_the_callers_regions(
    callers: dict[str, Any], event_a: Event
) -> None:
    response = callers["town_b"].client.get(f"/api/v1/events/?reporter_phone={PHONE}")
    assert response.status_code == 200 and response.json()["results"] == []


def test_key_rotation_keeps_the_blind_index(
    callers: dict[str, Any],
    event_a: Event,
    key_file: Path,  # noqa: F811
) -> None:
    """The index has its own key: re-encrypting the phone under a new key leaves the
    index as it was, and the lookup still finds the event."""
    before = Event.objects.values_list("reporter_phone_index", flat=True).get(
        pk=event_a.pk
    )
    call_command("rotate_personal_data", "--new-key", stdout=StringIO())
    current = crypto.keyring().current
    with connection.cursor() as cur:
        cur.execute(
            "SELECT reporter_phone, reporter_phone_index FROM events_event WHERE id = %s",
            [event_a.pk],
        )
        ciphertext, index = cur.fetchone()
    assert crypto.key_id(ciphertext) == current
    assert index == before
    response = callers["town_a"].client.get(f"/api/v1/events/?reporter_phone={PHONE}")
    assert [e["code"] for e in response.json()["results"]] == [event_a.code]


def test_the_migration_indexes_events_reported_before_the_index(
    callers: dict[str, Any], event_a: Event
) -> None:
    """Events stored before the column existed get their index from the migration."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "civicgrid.events.migrations.0003_reporter_phone_blind_index"
    )
    Event.objects.filter(pk=event_a.pk).update(reporter_phone_index="")

    migration.index_existing_phones(apps, None)

    assert Event.objects.get(pk=event_a.pk).reporter_phone_index == (
        crypto.blind_index(PHONE)
    )
