"""The three gates (滨州): entry, handling, exit — walked through the case engine."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from civicgrid.core.models import AuditRecord
from civicgrid.disputes import engine
from civicgrid.disputes.errors import DisputeError, NotPermitted, StaleVersion
from civicgrid.disputes.models import Case, Channel, JudicialConfirmation, Party
from civicgrid.disputes.selectors import cases_visible
from civicgrid.disputes.services import case_intake
from civicgrid.disputes.tests.conftest import TOWN_A, act, agree, mediate, parties
from civicgrid.events.services import event_report
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db


def steps(case: Case) -> list[str]:
    return list(case.actions.values_list("transition", flat=True))


def test_agreement_kept_walks_every_gate(cast: Any, register: Any) -> None:
    """Entry (registered, diverted on time), handling (session, agreement), exit
    (judicial confirmation, follow-up finds it kept, verified)."""
    # given: a registered case: the entry gate's deadline runs
    case = register()
    assert case.state == "registered" and case.deadline_kind == "divert"
    assert case.deadline_at is not None
    assert abs(case.deadline_at - (timezone.now() + timedelta(hours=72))) < timedelta(
        minutes=1
    )

    # when: the case goes through every gate
    mediate(case, cast)
    case = agree(case, cast.mediator_user, days=10)
    assert case.state == "agreed" and case.deadline_kind == "follow_up"
    assert timezone.localtime(
        case.deadline_at
    ).date() == timezone.localdate() + timedelta(days=10)
    act(
        case,
        cast.mediator_user,
        "request_confirmation",
        court="张店区人民法院",
        requested_on=timezone.localdate().isoformat(),
    )
    act(
        case,
        cast.town,
        "record_confirmation",
        result="confirmed",
        ruling_number="(2026)鲁0303民特1号",
    )
    case = act(case, cast.grid_worker, "follow_up", kept="yes", note="已拆除")
    assert case.state == "closed" and case.outcome == "resolved"
    assert case.deadline_kind == "verify" and case.closed_at is not None
    case = act(case, cast.leader, "verify")

    # then: the timeline holds every step, the records are there, nothing is due
    assert steps(case) == [
        "register", "divert", "assign", "record_session", "agree",
        "request_confirmation", "record_confirmation", "follow_up", "verify",
    ]  # fmt: skip
    assert case.state == "verified" and case.deadline_at is None
    assert case.verified_at is not None
    assert case.actions.get(transition="divert").data["on_time"] is True
    assert case.sessions.count() == 1 and case.agreement.perform_by
    assert case.confirmation.result == JudicialConfirmation.Result.CONFIRMED
    assert list(case.follow_ups.values_list("kept", flat=True)) == [True]
    audited = set(
        AuditRecord.objects.filter(
            object_id=str(case.pk), object_type="disputes.case"
        ).values_list("action", flat=True)
    )
    assert {
        "disputes.case.register",
        "disputes.case.agree",
        "disputes.case.verify",
    } <= audited


def test_agreement_broken_is_referred_and_ended(cast: Any, register: Any) -> None:
    """A follow-up that finds the agreement broken sends the case to referral; the
    referral names the receiving body; the case ends lawfully as referred."""
    case = register()
    mediate(case, cast)
    agree(case, cast.mediator_user)
    case = act(case, cast.mediator_user, "follow_up", kept="no", note="未履行")
    assert case.state == "broken" and case.deadline_kind == "refer"
    case = act(
        case,
        cast.town,
        "refer",
        kind="court",
        receiving_body="张店区人民法院",
        reason="协议未履行，引导诉讼",
    )
    case = act(case, cast.town, "close", outcome="referred", reason="已由法院立案")
    assert case.state == "closed" and case.outcome == "referred"
    assert case.referrals.get().receiving_body == "张店区人民法院"
    assert list(case.follow_ups.values_list("kept", flat=True)) == [False]


def test_failed_mediation_is_referred_to_court(cast: Any, register: Any) -> None:
    case = register()
    mediate(case, cast)
    case = act(case, cast.mediator_user, "fail", reason="双方分歧过大")
    assert case.state == "failed" and case.deadline_kind == "refer"
    case = act(
        case,
        cast.town,
        "refer",
        kind="court",
        receiving_body="张店区人民法院",
        reason="诉调对接",
    )
    case = act(case, cast.town, "close", outcome="referred", reason="法院受理")
    case = act(case, cast.county, "verify")
    assert steps(case)[-4:] == ["fail", "refer", "close", "verify"]
    assert case.referrals.get().kind == "court"


@pytest.mark.parametrize("channel", Channel.values)
def test_each_channel_carries_a_case_to_its_end(
    cast: Any, register: Any, channel: str
) -> None:
    """Every one of the six channels (and the industry organisations) takes a case
    from diversion to a verified end."""
    case = register()
    act(case, cast.town, "divert", channel=channel)
    act(case, cast.town, "assign", mediator=cast.mediator.pk)
    act(
        case,
        cast.mediator_user,
        "record_session",
        held_at=timezone.now().isoformat(),
        place="中心",
        participants="双方",
        minutes="调解",
    )
    agree(case, cast.mediator_user)
    act(case, cast.town, "follow_up", kept="yes")
    case = act(case, cast.town, "verify")
    assert case.channel == channel and case.state == "verified"


def test_lawful_end_without_mediation(cast: Any, register: Any) -> None:
    """A withdrawn case ends lawfully; 'resolved' is only what a kept agreement gives."""
    case = register()
    with pytest.raises(DisputeError, match="follow-up"):
        act(case, cast.town, "close", outcome="resolved", reason="x")
    with pytest.raises(DisputeError, match="not referred"):
        act(case, cast.town, "close", outcome="referred", reason="x")
    case = act(case, cast.town, "close", outcome="withdrawn", reason="申请人撤回")
    assert case.outcome == "withdrawn" and case.state == "closed"


def test_refusals_write_nothing(cast: Any, register: Any) -> None:
    """Unknown steps, steps out of order (an agreement on a case not in mediation),
    missing fields and stale versions are refused with the reason; nothing changes."""
    case = register()
    before = (case.version, case.actions.count())
    with pytest.raises(DisputeError, match="not possible while the case is 已登记"):
        agree(case, cast.town)
    with pytest.raises(DisputeError, match="no step"):
        act(case, cast.town, "teleport")
    with pytest.raises(DisputeError, match="channel"):
        act(case, cast.town, "divert")
    with pytest.raises(DisputeError, match="Unknown channel"):
        act(case, cast.town, "divert", channel="duel")
    with pytest.raises(StaleVersion):
        engine.case_act(
            actor=cast.town,
            case_id=case.pk,
            transition="divert",
            version=case.version + 5,
            data={"channel": "petition"},
        )
    case.refresh_from_db()
    assert (case.version, case.actions.count()) == before
    # an agreement needs a session first
    act(case, cast.town, "divert", channel="peoples_mediation")
    act(case, cast.town, "assign", mediator=cast.mediator.pk)
    with pytest.raises(DisputeError, match="session"):
        agree(case, cast.mediator_user)
    assert not hasattr(Case.objects.get(pk=case.pk), "agreement_id")


def test_missing_or_bad_party_identity_is_refused(cast: Any, register: Any) -> None:
    before = Case.objects.count()
    missing = parties()
    missing[1]["id_number"] = ""
    with pytest.raises(DisputeError, match="Party 2: the identity number is missing"):
        register(parties=missing)
    bad = parties()
    bad[0]["id_number"] = bad[0]["id_number"][:-1] + (
        "0" if bad[0]["id_number"][-1] != "0" else "1"
    )
    with pytest.raises(DisputeError, match="check digit"):
        register(parties=bad)
    with pytest.raises(DisputeError, match="at least two"):
        register(parties=parties()[:1])
    org = [
        parties()[0],
        {
            "kind": "organisation",
            "name": "某物业公司",
            "id_number": "91350100M000100Y43",
        },
    ]
    case = register(parties=org, dispute_type="property_management")
    assert Case.objects.count() == before + 1
    # identities are stored encrypted; the blind index finds them
    raw = Party.objects.filter(case=case).values_list("id_number", flat=True)
    assert all(p.id_number in {o["id_number"] for o in org} for p in case.parties.all())
    assert raw  # decrypted by the field


def test_scope_of_steps_and_reads(cast: Any, register: Any) -> None:
    """Another town's center neither sees nor acts on the case; an unassigned
    mediator may not record a session; the assigned one may."""
    case = register()
    assert not cases_visible(cast.town_b).filter(pk=case.pk).exists()
    assert cases_visible(cast.county).filter(pk=case.pk).exists()
    assert cases_visible(cast.grid_worker).filter(pk=case.pk).exists()
    assert not cases_visible(cast.mediator_user).filter(pk=case.pk).exists()
    with pytest.raises(NotPermitted):
        act(case, cast.town_b, "divert", channel="petition")
    with pytest.raises(NotPermitted):
        act(case, cast.grid_worker, "divert", channel="petition")
    act(case, cast.town, "divert", channel="peoples_mediation")
    act(case, cast.town, "assign", mediator=cast.mediator.pk)
    assert cases_visible(cast.mediator_user).filter(pk=case.pk).exists()
    with pytest.raises(NotPermitted):
        act(
            case,
            cast.expert_user,
            "record_session",
            held_at=timezone.now().isoformat(),
            place="x",
            participants="x",
            minutes="x",
        )
    with pytest.raises(NotPermitted, match="scope"):
        case_intake(
            actor=cast.town_b,
            source="walk_in",
            region_code=TOWN_A,
            level="town",
            dispute_type="other",
            title="x",
            narrative="x",
            parties=parties(),
        )


def test_event_converted_into_a_case(cast: Any) -> None:
    """A reported event becomes a dispute case of the event's village, linked to it."""
    grid = Grid.objects.filter(region_code__startswith=TOWN_A).order_by("code").first()
    assert grid is not None
    point = grid.geometry.representative_point()
    event, _ = event_report(
        actor=cast.grid_worker,
        source="grid_worker",
        title="邻里纠纷",
        description="噪音",
        lon=point.x,
        lat=point.y,
    )
    case = case_intake(
        actor=cast.town,
        source="event",
        event_code=event.code,
        region_code="",
        level="town",
        dispute_type="neighbours",
        title="噪音纠纷",
        narrative="楼上楼下噪音",
        parties=parties(),
    )
    assert case.event == event and case.region_code == event.region_code[:12]
    assert case.code.startswith("MD3703-")
