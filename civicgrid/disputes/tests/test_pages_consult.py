"""The bi-weekly consultation (双周会诊) in the browser's pages: a leader opens a
session with the 17 standing units and one more, puts hard cases on the agenda
(htmx or a plain post), records decisions and assigned follow-ups; other areas and
roles are kept out."""

from typing import Any

import pytest

from civicgrid.core.models import AuditRecord
from civicgrid.disputes.consultations import STANDING_UNITS
from civicgrid.disputes.models import Consultation
from civicgrid.disputes.tests.conftest import TOWN_A, TOWN_B
from civicgrid.disputes.tests.factories import parties
from civicgrid.disputes.tests.test_pages import signed_in

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_a_leader_runs_a_consultation(cast: Any, register: Any) -> None:
    hard = register(violence_threatened=True)
    other = register(parties=parties(7, 8))
    leader = signed_in(cast.leader)
    page = leader.get("/disputes/consultations/new/").content.decode()
    assert "召开会诊" in page and "政法委" in page and "妇联" in page

    units = "\n".join([*STANDING_UNITS, "供电公司"])
    r = leader.post(
        "/disputes/consultations/new/",
        {"region": TOWN_A, "held_on": "2026-11-27", "attendees": units},
    )
    assert r.status_code == 302
    c = Consultation.objects.get()
    assert c.attendees[-1] == "供电公司" and len(c.attendees) == 18
    page = leader.get(f"/disputes/consultations/{c.pk}/").content.decode()
    assert "17+1" in page and hard.code in page  # offered for the agenda

    # htmx adds the case and swaps the agenda in place (a fragment, no layout)
    r = leader.post(
        f"/disputes/consultations/{c.pk}/items/", {"case": hard.code}, headers=HX
    )
    fragment = r.content.decode()
    assert r.status_code == 200 and fragment.startswith('<div id="agenda">')
    assert hard.code in fragment and "<html" not in fragment
    # a plain post adds the second one; the same case twice is refused with why
    r = leader.post(f"/disputes/consultations/{c.pk}/items/", {"case": other.code})
    assert r.status_code == 302
    r = leader.post(
        f"/disputes/consultations/{c.pk}/items/", {"case": hard.code}, headers=HX
    )
    assert r.status_code == 400 and "该案件已列入议程" in r.content.decode()

    item = c.items.get(case=hard)
    prefix = f"i{item.pk}"
    r = leader.post(
        f"/disputes/consultations/{c.pk}/items/{item.pk}/",
        {f"{prefix}-decision": "", f"{prefix}-follow_up_unit": "派出所"},
        headers=HX,
    )
    assert r.status_code == 400
    r = leader.post(
        f"/disputes/consultations/{c.pk}/items/{item.pk}/",
        {
            f"{prefix}-decision": "派出所与司法所联合上门化解",
            f"{prefix}-follow_up_unit": "车站派出所",
            f"{prefix}-follow_up_due": "2026-12-04",
        },
        headers=HX,
    )
    assert r.status_code == 200 and "联合上门化解" in r.content.decode()
    item.refresh_from_db()
    assert (
        item.follow_up_unit == "车站派出所" and str(item.follow_up_due) == "2026-12-04"
    )

    # the attending units can be corrected; the API lists the same session
    r = leader.post(
        f"/disputes/consultations/{c.pk}/units/", {"u-attendees": "政法委\n信访局"}
    )
    c.refresh_from_db()
    assert r.status_code == 302 and c.attendees == ["政法委", "信访局"]
    body = leader.get("/api/v1/disputes/consultations/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows[0]["items"][0]["follow_up_unit"] == "车站派出所"
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {
        "disputes.consultation.open",
        "disputes.consultation.item",
        "disputes.consultation.decision",
        "disputes.consultation.units",
    } <= actions


def test_consultations_are_kept_to_their_area(cast: Any, register: Any) -> None:
    case = register()
    leader = signed_in(cast.leader)
    leader.post(
        "/disputes/consultations/new/",
        {"region": TOWN_A, "held_on": "2026-11-27", "attendees": "政法委"},
    )
    c = Consultation.objects.get()
    town_b = signed_in(cast.town_b)
    assert town_b.get(f"/disputes/consultations/{c.pk}/").status_code == 404
    assert (
        c.held_on.isoformat()
        not in town_b.get("/disputes/consultations/").content.decode()
    )
    r = town_b.post(f"/disputes/consultations/{c.pk}/items/", {"case": case.code})
    assert r.status_code == 404
    # another town's officer cannot open one in town A
    r = town_b.post(
        "/disputes/consultations/new/",
        {"region": TOWN_A, "held_on": "2026-11-27", "attendees": "政法委"},
    )
    assert r.status_code == 200 and "辖区" in r.content.decode()
    assert Consultation.objects.count() == 1
    # a grid worker sees the session but may not open or change one
    grid = signed_in(cast.grid_worker)
    assert grid.get("/disputes/consultations/new/").status_code == 403
    r = grid.post(f"/disputes/consultations/{c.pk}/items/", {"case": case.code})
    assert r.status_code in (403, 404) and not c.items.exists()
    # a case of another town cannot join town A's agenda
    b_case = register(actor=cast.town_b, region_code=TOWN_B, parties=parties(5, 6))
    r = leader.post(f"/disputes/consultations/{c.pk}/items/", {"case": b_case.code})
    assert r.status_code == 400 and not c.items.exists()
