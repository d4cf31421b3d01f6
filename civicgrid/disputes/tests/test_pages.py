"""The server-rendered pages: a center officer registers and diverts, a mediator
records the session and the agreement, a leader verifies — all in Chinese."""

from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from civicgrid.disputes.models import Case
from civicgrid.disputes.tests.conftest import TOWN_A
from civicgrid.disputes.tests.factories import id_number

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    """A signed-in client. django-axes records every sign-in with the request's
    address, which force_login's bare request lacks (PostgreSQL refuses 'None' as an
    inet value): its bookkeeping is switched off for this sign-in only."""
    c = Client()
    with override_settings(AXES_ENABLED=False):
        c.force_login(user)
    return c


def post_step(c: Client, case: Case, transition: str, **fields: Any) -> Any:
    case.refresh_from_db()
    data = {"transition": transition, f"{transition}-version": case.version}
    data.update({f"{transition}-{k}": v for k, v in fields.items()})
    return c.post(f"/disputes/{case.code}/step/", data)


def test_pages_walk_a_case(cast: Any) -> None:
    town, mediator, leader = (
        signed_in(cast.town),
        signed_in(cast.mediator_user),
        signed_in(cast.leader),
    )
    r = town.post("/disputes/new/", {
        "source": "walk_in", "region": TOWN_A, "level": "town", "dispute_type": "neighbours",
        "amount": "100", "title": "院墙纠纷", "narrative": "通道被堵",
        "applicant_name": "张三", "applicant_id": id_number(1), "applicant_phone": "13812345678",
        "respondent_name": "李四", "respondent_id": "",
    })  # fmt: skip
    assert (
        r.status_code == 200 and not Case.objects.exists()
    )  # the respondent's identity is required
    r = town.post("/disputes/new/", {
        "source": "walk_in", "region": TOWN_A, "level": "town", "dispute_type": "neighbours",
        "amount": "100", "title": "院墙纠纷", "narrative": "通道被堵",
        "applicant_name": "张三", "applicant_id": id_number(1), "applicant_phone": "13812345678",
        "respondent_name": "李四", "respondent_id": id_number(2),
    })  # fmt: skip
    case = Case.objects.get()
    assert r.status_code == 302
    page = town.get(f"/disputes/{case.code}/").content.decode()
    assert "已登记" in page and "138****5678" in page and "13812345678" not in page
    assert "分流" in page and "车站街道人民调解委员会" in page

    assert (
        post_step(town, case, "divert", channel="peoples_mediation").status_code == 302
    )
    page = town.get(f"/disputes/{case.code}/").content.decode()
    assert "王调解" in page  # suggested
    assert post_step(town, case, "assign", mediator=cast.mediator.pk).status_code == 302
    held = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = post_step(
        mediator,
        case,
        "record_session",
        held_at=held,
        place="调解室",
        participants="双方",
        minutes="调解",
    )
    assert r.status_code == 302
    today = timezone.localdate().isoformat()
    r = post_step(
        mediator, case, "agree", terms="拆除", signed_on=today, perform_by="2000-01-01"
    )
    assert r.status_code == 400 and "履行期限不能早于签订日期" in r.content.decode()
    assert (
        post_step(
            mediator, case, "agree", terms="拆除", signed_on=today, perform_by=today
        ).status_code
        == 302
    )
    assert post_step(mediator, case, "follow_up", kept="yes").status_code == 302
    assert post_step(leader, case, "verify").status_code == 302
    case.refresh_from_db()
    assert case.state == "verified"
    # the leader takes the case; the center grants the subsidy within its grade
    assert leader.post(f"/disputes/{case.code}/own/").status_code == 302
    r = town.post(
        f"/disputes/{case.code}/subsidy/", {"grade": "simple", "amount": "900"}
    )
    assert r.status_code == 400 and "600.00" in r.content.decode()
    r = town.post(
        f"/disputes/{case.code}/subsidy/", {"grade": "simple", "amount": "600"}
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.leader == cast.leader and case.subsidy.amount == 600
    listing = leader.get("/disputes/").content.decode()
    assert case.code in listing and "已核验" in listing
    # another town's center does not reach the case
    assert signed_in(cast.town_b).get(f"/disputes/{case.code}/").status_code == 404


def test_admin_lists_cases_read_only(cast: Any, register: Any) -> None:
    """The back office lists cases without identities and offers no edit."""
    from civicgrid.accounts.services import user_create

    case = register()
    root = user_create(actor=None, username="d_root", password=None, is_superuser=True)
    root.is_staff = True
    root.save()
    c = signed_in(root)
    assert case.code in c.get("/admin/disputes/case/").content.decode()
    page = c.get(f"/admin/disputes/case/{case.pk}/change/").content.decode()
    assert case.code in page and "370303198001010" not in page
    assert c.get("/admin/disputes/mediator/").status_code == 200
    assert c.get("/admin/disputes/case/add/").status_code == 403
