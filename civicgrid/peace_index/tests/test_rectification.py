"""Rectification (挂牌整治): listing, notices in the centers' inboxes, escalation
while the area stays listed, and the API that tracks it to its closure."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from civicgrid.accounts.models import Role
from civicgrid.core.models import AuditRecord
from civicgrid.events.models import Notification
from civicgrid.peace_index.models import (
    Notice,
    NoticeKind,
    Rectification,
    RectificationStatus,
)
from civicgrid.peace_index.tests.conftest import publish, warn_everyone

SMALL, BIG = "990101001001", "990101001003"  # 小村 (300 people), 大社区
STEADY = {"990101001002": 10, "990102001001": 10, "990102001002": 10}
URL = "/api/v1/peace-index/rectifications/"


@pytest.fixture
def centers(tree, make_staff) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Center staff of 甲街道, 甲区 and the city, and of 乙镇 (another town)."""
    return {
        "town": make_staff("pi_town", Role.CENTER_STAFF, region="990101001"),
        "county": make_staff("pi_county", Role.CENTER_STAFF, region="990101"),
        "city": make_staff("pi_city", Role.CENTER_STAFF, region="9901"),
        "other": make_staff("pi_other", Role.CENTER_STAFF, region="990102001"),
    }


def listed_small_village(put_counts: Any) -> Rectification:
    """Three warned months; 小村 falls 100 → 71 (29 %): listed in 2026-03."""
    warn_everyone()
    for month, small in [("2026-01", 100), ("2026-02", 100), ("2026-03", 71)]:
        put_counts(month, {SMALL: small, BIG: 100, **STEADY})
        publish(month)
    return Rectification.objects.get(region_code=SMALL)


def inbox(user: Any) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


def test_listing_reaches_the_town_center_inbox(put_counts, centers) -> None:  # type: ignore[no-untyped-def]
    """A village has no center of its own: the listing and the warnings land in its
    town's inbox, not in the other town's; the publication's audit row names it."""
    rect = listed_small_village(put_counts)
    assert rect.status == RectificationStatus.LISTED and rect.listed_month == "2026-03"
    texts = inbox(centers["town"])
    assert any("小村" in t and "挂牌" in t for t in texts), texts
    assert not any("小村" in t for t in inbox(centers["other"]))
    publication = AuditRecord.objects.filter(action="peace_index.month_publish")
    assert SMALL in publication.order_by("-id")[0].changes["listed"][1]


def test_staying_listed_escalates_one_level_a_month(put_counts, centers) -> None:  # type: ignore[no-untyped-def]
    """Warned again while listed escalates, even after a 50 % fall (the 3-month
    rule only decides the listing): April to the town, May to the county. A month
    without a warning does not escalate."""
    listed_small_village(put_counts)
    put_counts("2026-04", {SMALL: 35, BIG: 100, **STEADY})
    publish("2026-04")
    rect = Rectification.objects.get(region_code=SMALL)
    assert (rect.months_listed, rect.escalation_level) == (2, 1)
    assert Notice.objects.filter(
        kind=NoticeKind.ESCALATION, region_code="990101001", month="2026-04"
    ).exists()
    put_counts("2026-05", {SMALL: 35, BIG: 100, **STEADY})
    publish("2026-05")
    rect.refresh_from_db()
    assert (rect.months_listed, rect.escalation_level) == (3, 2)
    last = AuditRecord.objects.filter(action="peace_index.month_publish").order_by(
        "-id"
    )
    assert SMALL in last[0].changes["escalated"][1]
    assert any("小村" in t and "3" in t for t in inbox(centers["county"]))
    # a version that warns nobody: June is not an escalation
    from civicgrid.peace_index import catalogue
    from civicgrid.peace_index.models import IndexKind

    active = catalogue.active_version(IndexKind.PEACE)
    assert active is not None
    calm = catalogue.catalogue_version_copy(actor=None, version=active)
    catalogue.catalogue_version_update_rules(
        actor=None, version=calm, warn_security_below=0.0, warn_bottom_fraction=0.0
    )
    catalogue.catalogue_version_activate(actor=None, version=calm)
    put_counts("2026-06", {SMALL: 1, BIG: 100, **STEADY})
    publish("2026-06")
    rect.refresh_from_db()
    assert rect.escalation_level == 2 and rect.last_listed_month == "2026-05"


def test_owner_measures_progress_and_closure_over_the_api(put_counts, centers) -> None:  # type: ignore[no-untyped-def]
    """The town center names an owner (told in their inbox) and the measures; the
    owner logs progress; the center closes it with a note. Each step is audited."""
    rect = listed_small_village(put_counts)
    town = APIClient()
    town.force_authenticate(centers["town"])
    owner = centers["county"]  # an officer whose scope holds the village
    r = town.patch(
        f"{URL}{rect.pk}/",
        {"owner": owner.pk, "measures": "夜间巡逻加密；重点人员走访"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["owner"] == owner.pk and r.json()["status"] == "in_progress"
    assert any("小村" in t for t in inbox(owner))
    by_owner = APIClient()
    by_owner.force_authenticate(owner)
    r = by_owner.patch(f"{URL}{rect.pk}/", {"progress": "已走访 12 户"}, format="json")
    assert r.status_code == 200
    assert [p["note"] for p in r.json()["progress"]] == ["已走访 12 户"]
    assert (
        town.post(f"{URL}{rect.pk}/close/", {"note": " "}, format="json").status_code
        == 400
    )
    r = town.post(f"{URL}{rect.pk}/close/", {"note": "连续两月未预警"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert r.json()["closure_note"] == "连续两月未预警"
    again = town.patch(f"{URL}{rect.pk}/", {"progress": "x"}, format="json")
    assert again.status_code == 400
    actions = set(
        AuditRecord.objects.filter(object_id=str(rect.pk)).values_list(
            "action", flat=True
        )
    )
    assert {
        "peace_index.rectification_update",
        "peace_index.rectification_close",
    } <= actions


def test_rectification_api_is_scoped_and_checked(
    put_counts, centers, make_staff
) -> None:  # type: ignore[no-untyped-def]
    """The other town sees nothing (404); an owner outside the area's scope, an
    unknown user and an empty change are 400; a department officer who is not the
    owner may not log progress (403) nor close (403)."""
    rect = listed_small_village(put_counts)
    other = APIClient()
    other.force_authenticate(centers["other"])
    assert other.get(f"{URL}{rect.pk}/").status_code == 404
    seen = {r["region_code"] for r in other.get(URL).json()}
    assert seen and all(c.startswith("990102001") for c in seen)
    town = APIClient()
    town.force_authenticate(centers["town"])
    assert town.get(f"{URL}{rect.pk}/").json()["region_code"] == SMALL
    bad_owner = town.patch(
        f"{URL}{rect.pk}/", {"owner": centers["other"].pk}, format="json"
    )
    assert bad_owner.status_code == 400
    assert (
        town.patch(f"{URL}{rect.pk}/", {"owner": 999999}, format="json").status_code
        == 400
    )
    assert town.patch(f"{URL}{rect.pk}/", {}, format="json").status_code == 400
    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.models import Department
    from civicgrid.regions.models import Region

    police = accounts.department_create(
        actor=None,
        name="甲区公安分局",
        kind=Department.Kind.POLICE,
        region=Region.objects.get(region_code="990101"),
    )
    dept = make_staff("pi_dept", Role.DEPARTMENT_STAFF, department=police)
    d = APIClient()
    d.force_authenticate(dept)
    assert (
        d.patch(f"{URL}{rect.pk}/", {"progress": "x"}, format="json").status_code == 403
    )
    assert (
        d.post(f"{URL}{rect.pk}/close/", {"note": "x"}, format="json").status_code
        == 403
    )
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.LISTED and rect.owner is None
