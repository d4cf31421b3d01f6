"""Consultation follow-ups (双周会诊): the unit responsible is a department of the
area (its staff warned) or a unit outside the system (a name); the department's
staff or a center record the follow-up as done with a note (API and pages, audited,
409 on a stale version, a retry changes nothing); the overdue scan then stays
silent, and a follow-up assigned anew is watched again. Free-text units of earlier
sessions are linked to departments by the migration."""

import importlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role
from civicgrid.core.models import AuditRecord
from civicgrid.disputes.consultations import consultation_item_add, consultation_open
from civicgrid.disputes.models import Consultation, ConsultationItem
from civicgrid.disputes.overdue import follow_up_scan
from civicgrid.disputes.tests.conftest import COUNTY, TOWN_A, TOWN_B
from civicgrid.disputes.tests.test_api import client_of
from civicgrid.disputes.tests.test_pages import signed_in
from civicgrid.events.models import Notification
from civicgrid.regions.models import Region

pytestmark = pytest.mark.django_db
API = "/api/v1/disputes/consultations/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def department(name: str, region_code: str) -> Department:
    return accounts.department_create(
        actor=None,
        name=name,
        kind=Department.Kind.HOUSING,
        region=Region.objects.get(region_code=region_code),
    )


def session(cast: Any, region_code: str = TOWN_A) -> Consultation:
    return consultation_open(
        actor=cast.town,
        region=Region.objects.get(region_code=region_code),
        held_on=datetime(2026, 3, 2).date(),
        attendees=["政法委", "住建局"],
    )


def inbox(user: Any, word: str) -> list[str]:
    texts = Notification.objects.filter(user=user).values_list("text", flat=True)
    return [t for t in texts if word in t]


def test_done_follow_up_is_no_longer_warned(
    cast: Any, register: Any, make_staff: Any
) -> None:
    """The unit's clerk records the follow-up done through the API before the due
    day: no warning after it; the chair is told. A stale version is 409, the same
    note again changes nothing, another department's staff get 403. A new due day
    opens the follow-up again and it is warned once that day has passed."""
    housing = department("张店区住建局", COUNTY)
    clerk = make_staff("fu_clerk", Role.DEPARTMENT_STAFF, department=housing)
    with time_machine.travel(
        datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), tick=False
    ) as clock:
        case = register()
        c = session(cast)
        item = consultation_item_add(
            actor=cast.town,
            consultation=c,
            case=case,
            item={
                "decision": "住建部门牵头勘查",
                "follow_up_department": housing.pk,
                "follow_up_due": "2026-03-10",
            },
        )
        url = f"{API}{c.pk}/items/{case.code}/follow-up/"
        assert item.follow_up_unit == "张店区住建局" and item.version == 1

        # the clerk finds it among the department's follow-ups, and acts
        page = signed_in(clerk).get("/disputes/consultations/").content.decode()
        assert 'id="my-follow-ups"' in page and case.code in page
        police = client_of(cast.police)  # another department of the area
        assert police.post(url, {"note": "x", "version": 1}).status_code == 403
        me = client_of(clerk)
        r = me.post(url, {"note": "", "version": 1}, format="json")
        assert r.status_code == 400 and "note" in r.json()
        r = me.post(url, {"note": "已现场勘查并出具意见", "version": 1}, format="json")
        assert r.status_code == 200, r.content
        row = r.json()["items"][0]
        assert row["follow_up_done_by"] == "fu_clerk" and row["version"] == 2
        assert row["follow_up_note"] == "已现场勘查并出具意见"
        # a retry of the same request: the same answer, nothing more recorded
        r = me.post(url, {"note": "已现场勘查并出具意见", "version": 1}, format="json")
        assert r.status_code == 200 and r.json()["items"][0]["version"] == 2
        # another note on the old version: someone changed it first
        r = me.post(url, {"note": "再次勘查", "version": 1}, format="json")
        assert r.status_code == 409 and r.json()["consultation"]["id"] == c.pk
        assert (
            AuditRecord.objects.filter(
                action="disputes.consultation.follow_up_done"
            ).count()
            == 1
        )
        assert len(inbox(cast.town, "会诊")) == 1  # the chair is told

        clock.move_to(datetime(2026, 3, 12, 9, 0, tzinfo=SHANGHAI))
        assert follow_up_scan() == 0
        assert not inbox(clerk, "逾期")

        # assigned anew with a later due day: open again, warned after it
        r = client_of(cast.town).post(
            f"{API}{c.pk}/items/{case.code}/decision/",
            {
                "decision": "补充勘查",
                "follow_up_department": housing.pk,
                "follow_up_due": "2026-03-15",
            },
            format="json",
        )
        assert (
            r.status_code == 200 and r.json()["items"][0]["follow_up_done_at"] is None
        )
        clock.move_to(datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI))
        assert follow_up_scan() == 1 and follow_up_scan() == 0
        assert len(inbox(clerk, "2026-03-15")) == 1
        assert not inbox(cast.police, "会诊")


def test_the_unit_is_a_department_of_the_area(
    cast: Any, register: Any, make_staff: Any
) -> None:
    """The decision takes a department of the session's area by id (one of another
    area is refused with the reason); a name exactly an area department's is linked;
    any other name is a unit outside the system, whose follow-up only a center may
    record as done. The form offers the area's departments."""
    housing = department("张店区住建局", COUNTY)
    far = department("公园街道城建办", TOWN_B)
    case, c = register(), session(cast)
    consultation_item_add(actor=cast.town, consultation=c, case=case)
    town = client_of(cast.town)
    url = f"{API}{c.pk}/items/{case.code}/decision/"

    r = town.post(
        url, {"decision": "勘查", "follow_up_department": far.pk}, format="json"
    )
    assert r.status_code == 400 and r.json()["field"] == "follow_up_department"
    r = town.post(
        url,
        {"decision": "勘查", "follow_up_unit": "张店区住建局"},
        format="json",
    )
    assert r.json()["items"][0]["follow_up_department"] == housing.pk
    r = town.post(
        url,
        {
            "decision": "勘查",
            "follow_up_unit": "供电公司",
            "follow_up_due": "2026-12-01",
        },
        format="json",
    )
    row = r.json()["items"][0]
    assert (row["follow_up_department"], row["follow_up_unit"]) == (None, "供电公司")

    page = signed_in(cast.town).get(f"/disputes/consultations/{c.pk}/")
    html = page.content.decode()
    assert "张店区住建局" in html and "车站派出所" in html
    assert "公园街道城建办" not in html and "系统外单位" in html

    # a center records a unit outside the system as done, by the page without JS
    item = ConsultationItem.objects.get()
    done = signed_in(cast.town).post(
        f"/disputes/consultations/{c.pk}/items/{item.pk}/done/",
        {f"d{item.pk}-note": "供电公司已迁改线路", f"d{item.pk}-version": item.version},
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.follow_up_done_by == cast.town and item.follow_up_note
    html = signed_in(cast.town).get(f"/disputes/consultations/{c.pk}/").content.decode()
    assert "已办结" in html and "供电公司已迁改线路" in html
    # the case page lists its follow-ups with their state
    html = signed_in(cast.town).get(f"/disputes/{case.code}/").content.decode()
    assert 'id="case-follow-ups"' in html and "供电公司已迁改线路" in html


def test_the_migration_links_free_text_units(cast: Any, register: Any) -> None:
    """Earlier sessions' units are linked by the old suffix rule: the nearest
    department of the area named like the unit; an ambiguous name or one matching
    nothing stays free text."""
    housing = department("张店区住建局", COUNTY)
    department("张店区旧住建局", COUNTY)  # "住建局" is ambiguous at the county
    department("车站街道住建办", TOWN_A)
    c = session(cast)
    units = {
        "张店区住建局": housing.pk,
        "住建办": None,
        "住建局": None,
        "供电公司": None,
    }
    units["住建办"] = Department.objects.get(name="车站街道住建办").pk
    for unit in units:
        ConsultationItem.objects.create(
            consultation=c, case=register(), follow_up_unit=unit
        )
    migration = importlib.import_module(
        "civicgrid.disputes.migrations.0005_consultation_follow_up_done_and_department"
    )
    migration.link_units(apps, None)
    linked = dict(
        ConsultationItem.objects.values_list("follow_up_unit", "follow_up_department")
    )
    assert linked == units


def test_the_agenda_offers_the_done_form_only_to_those_who_may_record(
    cast: Any, register: Any, make_staff: Any
) -> None:
    """A department's clerk gets the done form on its own follow-up only; a center of
    the area gets it on every open follow-up (also a unit outside the system's)."""
    housing = department("张店区住建局", COUNTY)
    clerk = make_staff("fu_form_clerk", Role.DEPARTMENT_STAFF, department=housing)
    c = session(cast)
    ours, outside = (
        consultation_item_add(
            actor=cast.town,
            consultation=c,
            case=register(),
            item={"decision": "勘查", **unit, "follow_up_due": "2026-03-10"},
        )
        for unit in (
            {"follow_up_department": housing.pk},
            {"follow_up_unit": "供电公司"},
        )
    )

    def forms(user: Any) -> set[int]:
        page = signed_in(user).get(f"/disputes/consultations/{c.pk}/")
        assert page.status_code == 200
        html = page.content.decode()
        return {i.pk for i in (ours, outside) if f'name="d{i.pk}-note"' in html}

    assert forms(clerk) == {ours.pk}
    assert forms(cast.town) == {ours.pk, outside.pk}
