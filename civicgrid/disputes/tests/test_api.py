"""The disputes API walked by a center officer, a mediator and a leader."""

from io import BytesIO
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from civicgrid.disputes.models import Case
from civicgrid.disputes.tests.conftest import TOWN_A, parties

pytestmark = pytest.mark.django_db
API = "/api/v1/disputes/"


def client_of(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def step(c: APIClient, code: str, transition: str, **data: Any) -> Any:
    version = Case.objects.get(code=code).version
    return c.post(
        f"{API}cases/{code}/steps/",
        {"transition": transition, "version": version, "data": data},
        format="json",
    )


INTAKE = {
    "source": "walk_in",
    "region": TOWN_A,
    "level": "town",
    "dispute_type": "neighbours",
    "amount": "3000",
    "title": "相邻通行纠纷",
    "narrative": "院墙通道",
}


def test_walk_through_the_api(cast: Any) -> None:
    """Register, see the proposals, divert, assign, mediate, agree, follow up,
    verify, subsidise, export the ledger — each by the person whose step it is."""
    town, mediator, leader = (
        client_of(cast.town),
        client_of(cast.mediator_user),
        client_of(cast.leader),
    )
    r = town.post(f"{API}cases/", {**INTAKE, "parties": parties()}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    code = body["code"]
    assert (
        body["parties"][0]["id_number"].startswith("370")
        and "*" in body["parties"][0]["id_number"]
    )
    assert body["parties"][0]["phone"] == "138****5678"
    assert [a["name"] for a in body["available"]] == ["divert", "close"]

    r = town.get(f"{API}cases/{code}/diversion/")
    assert r.json()["channel"] == "peoples_mediation"
    org = r.json()["organisations"][0]["id"]
    r = town.get(f"{API}cases/{code}/experts/")
    assert r.json()["suggested"][0]["name"] == "王调解"
    assert (
        step(
            town, code, "divert", channel="peoples_mediation", organisation=org
        ).status_code
        == 200
    )
    assert step(town, code, "assign", mediator=cast.mediator.pk).status_code == 200

    # the mediator sees the case now, and takes the handling steps
    assert mediator.get(f"{API}cases/?limit=50").json()["count"] == 1
    r = step(
        mediator,
        code,
        "record_session",
        held_at=timezone.now().isoformat(),
        place="调解室",
        participants="双方",
        minutes="释法说理",
    )
    assert r.status_code == 200, r.content
    today = timezone.localdate().isoformat()
    r = step(
        mediator, code, "agree", terms="拆除堆放物", signed_on=today, perform_by=today
    )
    assert r.status_code == 200 and r.json()["agreement"]["terms"] == "拆除堆放物"
    r = step(mediator, code, "follow_up", kept="yes")
    assert r.json()["state"] == "closed" and r.json()["outcome"] == "resolved"

    # the leader verifies; the center grants the subsidy and exports the ledger
    assert step(leader, code, "verify").json()["state"] == "verified"
    r = town.post(
        f"{API}cases/{code}/subsidy/",
        {"amount": "2000", "grade": "simple"},
        format="json",
    )
    assert r.status_code == 400 and r.json()["field"] == "amount"
    r = town.post(
        f"{API}cases/{code}/subsidy/",
        {"amount": "600", "grade": "simple"},
        format="json",
    )
    assert r.status_code == 201
    r = leader.get(f"{API}subsidies/ledger/")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    assert [row[0] for row in ws.iter_rows(values_only=True)][1] == code
    stats = leader.get(f"{API}stats/").json()
    assert stats["cases"] == 1 and stats["success_rate"] == 1.0
    assert stats["by_channel"] == {"peoples_mediation": 1}


def test_refusals_carry_their_reasons(cast: Any) -> None:
    town = client_of(cast.town)
    missing = parties()
    missing[0]["id_number"] = ""
    r = town.post(f"{API}cases/", {**INTAKE, "parties": missing}, format="json")
    assert r.status_code == 400 and "缺少证件号码" in r.json()["detail"]
    assert not Case.objects.exists()
    code = town.post(
        f"{API}cases/", {**INTAKE, "parties": parties()}, format="json"
    ).json()["code"]
    r = step(
        town, code, "agree", terms="x", signed_on="2026-01-01", perform_by="2026-01-02"
    )
    assert r.status_code == 400 and "不能执行" in r.json()["detail"]
    r = town.post(
        f"{API}cases/{code}/steps/",
        {"transition": "divert", "version": 99, "data": {"channel": "petition"}},
        format="json",
    )
    assert r.status_code == 409 and r.json()["case"]["state"] == "registered"
    r = town.post(
        f"{API}cases/{code}/recusals/",
        {"mediator": cast.mediator.pk, "reason": "当事人亲属"},
        format="json",
    )
    assert r.status_code == 201
    step(town, code, "divert", channel="peoples_mediation")
    r = step(town, code, "assign", mediator=cast.mediator.pk)
    assert r.status_code == 400 and "已回避本案" in r.json()["detail"]
    # another town's center: not found; a mediator not assigned: not found
    assert client_of(cast.town_b).get(f"{API}cases/{code}/").status_code == 404
    assert client_of(cast.expert_user).get(f"{API}cases/{code}/").status_code == 404


def test_leader_ownership_and_consultation(cast: Any) -> None:
    """A case owned by a leader (包案) goes on the bi-weekly consultation agenda
    with its attending units, decision and follow-up."""
    town, leader = client_of(cast.town), client_of(cast.leader)
    code = town.post(
        f"{API}cases/", {**INTAKE, "parties": parties()}, format="json"
    ).json()["code"]
    r = town.post(f"{API}cases/{code}/leader/", {"leader": cast.town.pk}, format="json")
    assert r.status_code == 400 and "只有领导可以包案" in r.json()["detail"]
    r = town.post(
        f"{API}cases/{code}/leader/", {"leader": cast.leader.pk}, format="json"
    )
    assert r.status_code == 200 and r.json()["leader"] == cast.leader.pk
    units = [f"单位{i}" for i in range(1, 18)] + ["供电公司"]
    r = leader.post(
        f"{API}consultations/",
        {
            "region": TOWN_A,
            "held_on": timezone.localdate().isoformat(),
            "attendees": units,
            "items": [
                {
                    "case": code,
                    "decision": "住建部门牵头现场勘查",
                    "follow_up_unit": "区住建局",
                    "follow_up_due": "2026-12-31",
                }
            ],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert len(r.json()["attendees"]) == 18 and r.json()["items"][0]["case"] == code
    assert town.get(f"{API}consultations/").json()["count"] == 1
    assert client_of(cast.town_b).get(f"{API}consultations/").json()["count"] == 0
    r = town.post(
        f"{API}consultations/",
        {
            "region": "370303002",
            "held_on": "2026-11-30",
            "attendees": ["x"],
            "items": [],
        },
        format="json",
    )
    assert r.status_code == 400


def test_registry_lists_are_scoped(cast: Any) -> None:
    """The town sees its committee and the county's; the other town only the county's."""
    names = {
        o["name"]
        for o in client_of(cast.town).get(f"{API}organisations/").json()["results"]
    }
    assert names == {"车站街道人民调解委员会", "张店区医疗纠纷人民调解委员会"}
    names = {
        o["name"]
        for o in client_of(cast.town_b).get(f"{API}organisations/").json()["results"]
    }
    assert names == {"张店区医疗纠纷人民调解委员会"}
    pool = {
        m["name"]
        for m in client_of(cast.town).get(f"{API}mediators/").json()["results"]
    }
    assert pool == {"王调解", "赵医生"}


def test_attachments_checked_by_their_bytes(
    cast: Any, settings: Any, tmp_path: Any
) -> None:
    """Evidence and the signed agreement are PDF, JPEG or PNG by their bytes; a
    signed copy needs an agreement and becomes the agreement's."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    town, mediator = client_of(cast.town), client_of(cast.mediator_user)
    code = town.post(
        f"{API}cases/", {**INTAKE, "parties": parties()}, format="json"
    ).json()["code"]
    url = f"{API}cases/{code}/attachments/"
    pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\n"
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf")
    r = town.post(url, {"file": fake}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = town.post(
        url,
        {"file": SimpleUploadedFile("a.pdf", pdf), "kind": "signed_copy"},
        format="multipart",
    )
    assert r.status_code == 400 and r.json()["field"] == "kind"
    assert (
        mediator.post(
            url, {"file": SimpleUploadedFile("a.pdf", pdf)}, format="multipart"
        ).status_code
        == 404
    )
    r = town.post(url, {"file": SimpleUploadedFile("a.pdf", pdf)}, format="multipart")
    assert r.status_code == 201
    step(town, code, "divert", channel="peoples_mediation")
    step(town, code, "assign", mediator=cast.mediator.pk)
    step(
        mediator,
        code,
        "record_session",
        held_at=timezone.now().isoformat(),
        place="x",
        participants="x",
        minutes="x",
    )
    today = timezone.localdate().isoformat()
    step(mediator, code, "agree", terms="x", signed_on=today, perform_by=today)
    r = mediator.post(
        url,
        {"file": SimpleUploadedFile("s.pdf", pdf), "kind": "signed_copy"},
        format="multipart",
    )
    assert r.status_code == 201
    detail = town.get(f"{API}cases/{code}/").json()
    assert detail["agreement"]["signed_copy"] is True
    assert [a["kind"] for a in detail["attachments"]] == ["evidence", "signed_copy"]


def test_stats_refuse_bad_dates(cast: Any) -> None:
    """A date filter that is not a day is a 400 with its reason, not a 500."""
    town = client_of(cast.town)
    for bad in ("yesterday", "2026-02-30"):
        r = town.get(f"{API}stats/", {"created_after": bad})
        assert r.status_code == 400 and "created_after" in r.json()
    assert town.get(f"{API}stats/", {"created_before": "2026-12-31"}).status_code == 200
