"""The API of a consultation after it is opened (agenda, decisions, attending units)
and of the annual subsidy budget."""

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from civicgrid.core.models import AuditRecord
from civicgrid.disputes.consultations import consultation_open
from civicgrid.disputes.models import Consultation, SubsidyBudget
from civicgrid.disputes.subsidies import budget_for
from civicgrid.disputes.tests.conftest import TOWN_A, TOWN_B
from civicgrid.disputes.tests.test_api import client_of
from civicgrid.regions.models import Region

pytestmark = pytest.mark.django_db
API = "/api/v1/disputes/"


def session(cast: Any) -> Consultation:
    return consultation_open(
        actor=cast.town,
        region=Region.objects.get(region_code=TOWN_A),
        held_on=timezone.localdate(),
        attendees=["政法委", "信访局"],
    )


def test_agenda_decision_and_units(cast: Any, register: Any) -> None:
    """A center adds a hard case to an opened session, records its decision with the
    follow-up unit and due day, and edits the attending units; each audited."""
    # given
    c, case = session(cast), register()
    town, url = client_of(cast.town), f"{API}consultations/{c.pk}/"

    # when: the case goes on the agenda
    r = town.post(f"{url}items/", {"case": case.code}, format="json")

    # then
    assert r.status_code == 201, r.content
    assert [i["case"] for i in r.json()["items"]] == [case.code]
    r = town.post(f"{url}items/", {"case": case.code}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "case"

    # when: the decision and its follow-up
    r = town.post(
        f"{url}items/{case.code}/decision/",
        {
            "decision": "住建部门牵头勘查",
            "follow_up_unit": "住建局",
            "follow_up_due": "2026-12-20",
        },
        format="json",
    )

    # then
    assert r.status_code == 200, r.content
    item = r.json()["items"][0]
    assert item["decision"] == "住建部门牵头勘查"
    assert (item["follow_up_unit"], item["follow_up_due"]) == ("住建局", "2026-12-20")
    # a due day without a unit is refused with the reason, nothing changed
    r = town.post(
        f"{url}items/{case.code}/decision/",
        {"decision": "改", "follow_up_due": "2026-12-21"},
        format="json",
    )
    assert r.status_code == 400 and r.json()["field"] == "follow_up_unit"
    assert c.items.get().decision == "住建部门牵头勘查"

    # when: the units ("17+N") are replaced
    r = town.put(
        f"{url}attendees/",
        {"attendees": ["政法委", "供电公司", "政法委"]},
        format="json",
    )

    # then: duplicates dropped, audited
    assert r.status_code == 200 and r.json()["attendees"] == ["政法委", "供电公司"]
    actions = set(
        AuditRecord.objects.filter(object_id=str(c.pk)).values_list("action", flat=True)
    )
    assert {
        "disputes.consultation.item",
        "disputes.consultation.decision",
        "disputes.consultation.units",
    } <= actions
    assert town.get(url).json()["attendees"] == ["政法委", "供电公司"]


def test_agenda_scope(cast: Any, register: Any) -> None:
    """Another town's center neither sees nor changes the session; a case outside
    the session's area, or outside the caller's scope, is refused; a case not on the
    agenda has no decision to record."""
    c = session(cast)
    url = f"{API}consultations/{c.pk}/"
    far = register(actor=cast.town_b, region_code=TOWN_B)
    mine = register()
    b = client_of(cast.town_b)
    assert b.get(url).status_code == 404
    assert b.post(f"{url}items/", {"case": far.code}, format="json").status_code == 404
    assert (
        b.put(f"{url}attendees/", {"attendees": ["x"]}, format="json").status_code
        == 404
    )
    # the mediator sees cases but is no chair
    assert (
        client_of(cast.mediator_user)
        .post(f"{url}items/", {"case": mine.code}, format="json")
        .status_code
        == 403
    )
    county = client_of(cast.county)  # sees 公园街道's case, but not in the area
    r = county.post(f"{url}items/", {"case": far.code}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "case"
    r = client_of(cast.town).post(f"{url}items/", {"case": far.code}, format="json")
    assert r.status_code == 400  # not in the caller's scope: same answer
    r = county.post(
        f"{url}items/{mine.code}/decision/", {"decision": "x"}, format="json"
    )
    assert r.status_code == 404
    assert not c.items.exists()


def test_budget_api(cast: Any, make_staff: Any, register: Any) -> None:
    """Only a city's officer sets its budget; never below what is granted; a town's
    officer reads it."""
    from civicgrid.accounts.models import Role
    from civicgrid.disputes.models import Subsidy

    city = client_of(make_staff("d_city", Role.CENTER_STAFF, region="3703"))
    year = timezone.localdate().year
    url = f"{API}subsidies/budget/"
    r = client_of(cast.town).get(f"{url}?city=3703")
    assert r.status_code == 200 and r.json()["budget"] == "1500000.00"
    assert r.json()["may_set"] is False
    body = {"city": "3703", "year": year, "amount": "800000"}
    assert client_of(cast.county).put(url, body, format="json").status_code == 403
    assert client_of(cast.town).get(f"{url}?city=3702").status_code == 403

    r = city.put(url, body, format="json")
    assert r.status_code == 200, r.content
    assert (r.json()["budget"], r.json()["left"]) == ("800000.00", "800000.00")
    assert budget_for("3703", year) == Decimal("800000.00")

    # a grant of 1,000 yuan: the budget cannot go below it
    case = register()
    Subsidy.objects.create(
        case=case,
        mediator=cast.mediator,
        city_code="3703",
        region_code=case.region_code,
        year=year,
        amount=Decimal(1000),
        granted_by=cast.town,
    )
    r = city.put(url, {**body, "amount": "999.99"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "amount"
    assert "1000" in r.json()["detail"]
    r = city.put(url, {**body, "amount": "-5"}, format="json")
    assert r.status_code == 400
    assert budget_for("3703", year) == Decimal("800000.00")
    r = city.put(url, {**body, "amount": "1000"}, format="json")
    assert r.status_code == 200 and r.json()["left"] == "0.00"
    assert SubsidyBudget.objects.get(city_code="3703", year=year).amount == 1000
    # another city is out of scope
    assert city.put(url, {**body, "city": "3702"}, format="json").status_code == 403
    assert AuditRecord.objects.filter(action="disputes.subsidy.budget").count() == 2


def test_ledger_of_another_city_is_refused(cast: Any) -> None:
    """The ledger workbook shows the city's budget: like the budget itself, only
    for a city of the caller's posts (it used to answer any city, with no rows)."""
    town = client_of(cast.town)
    ledger = f"{API}subsidies/ledger/"
    assert town.get(f"{ledger}?city=3703").status_code == 200
    assert town.get(f"{ledger}?city=3702").status_code == 403
