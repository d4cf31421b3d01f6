"""Fixtures for dispute cases: the people of 张店区 who take part, the pool, and a
factory registering cases through the real intake service."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, User
from civicgrid.disputes import engine, services
from civicgrid.disputes.models import Case, MediationOrganisation, Mediator
from civicgrid.disputes.tests.factories import id_number, parties
from civicgrid.regions.models import Region

__all__ = ["id_number", "parties"]

TOWN_A, TOWN_B, COUNTY, CITY = "370303001", "370303002", "370303", "3703"


@pytest.fixture(autouse=True)
def english_reasons() -> Any:
    """Service-level tests read the reasons in English (the msgids); requests are
    answered in Chinese as always, and the API and page tests check that."""
    with translation.override("en"):
        yield


@dataclass
class Cast:
    town: User  # 车站街道 center
    town_b: User  # 公园街道 center
    county: User
    leader: User
    grid_worker: User
    police: User  # 车站派出所 staff
    mediator_user: User
    expert_user: User
    mediator: Mediator  # people's mediator of 车站街道, neighbours specialist
    expert: Mediator  # county medical expert
    far: Mediator  # 公园街道 mediator
    committee: MediationOrganisation  # 车站街道人民调解委员会
    medical: MediationOrganisation  # county 医调委


@pytest.fixture
def cast(db: Any, make_staff: Callable[..., User]) -> Cast:
    town = Region.objects.get(region_code=TOWN_A)
    county = Region.objects.get(region_code=COUNTY)
    police_dept = accounts.department_create(
        actor=None, name="车站派出所", kind=Department.Kind.POLICE, region=town
    )
    from civicgrid.regions.models import Grid

    grid = Grid.objects.filter(region_code__startswith=TOWN_A).order_by("code").first()
    committee = services.organisation_create(
        actor=None,
        name="车站街道人民调解委员会",
        channel="peoples_mediation",
        level="town",
        region=town,
    )
    medical = services.organisation_create(
        actor=None,
        name="张店区医疗纠纷人民调解委员会",
        channel="industry_mediation",
        level="county",
        region=county,
        fields=["medical"],
    )
    mediator_user = make_staff("d_mediator", Role.MEDIATOR, region=TOWN_A)
    expert_user = make_staff("d_expert", Role.EXPERT, region=COUNTY)
    return Cast(
        town=make_staff("d_town", Role.CENTER_STAFF, region=TOWN_A),
        town_b=make_staff("d_town_b", Role.CENTER_STAFF, region=TOWN_B),
        county=make_staff("d_county", Role.CENTER_STAFF, region=COUNTY),
        leader=make_staff("d_leader", Role.LEADER, region=COUNTY),
        grid_worker=make_staff("d_grid", Role.GRID_WORKER, grid=grid),
        police=make_staff("d_police", Role.DEPARTMENT_STAFF, department=police_dept),
        mediator_user=mediator_user,
        expert_user=expert_user,
        mediator=services.mediator_create(
            actor=None,
            name="王调解",
            kind="mediator",
            regions=[TOWN_A],
            specialties=["neighbours", "marriage_family"],
            organisation=committee,
            user=mediator_user,
        ),
        expert=services.mediator_create(
            actor=None,
            name="赵医生",
            kind="expert",
            regions=[COUNTY],
            specialties=["medical"],
            organisation=medical,
            user=expert_user,
        ),
        far=services.mediator_create(
            actor=None,
            name="孙调解",
            kind="mediator",
            regions=[TOWN_B],
            specialties=["neighbours"],
        ),
        committee=committee,
        medical=medical,
    )


@pytest.fixture
def register(cast: Cast) -> Callable[..., Case]:
    """Register a neighbours' case in 车站街道 as its center (overridable)."""

    def make(**kw: Any) -> Case:
        args: dict[str, Any] = {
            "actor": cast.town,
            "source": "walk_in",
            "region_code": TOWN_A,
            "level": "town",
            "dispute_type": "neighbours",
            "title": "相邻通行纠纷",
            "narrative": "两户因院墙通道发生争执",
            "parties": parties(),
            "amount": 5000,
        }
        args.update(kw)
        return services.case_intake(**args)

    return make


def act(case: Case, actor: User, transition: str, **data: Any) -> Case:
    """One step on the case's current version."""
    case.refresh_from_db()
    return engine.case_act(
        actor=actor,
        case_id=case.pk,
        transition=transition,
        version=case.version,
        data=data,
    )


def mediate(case: Case, cast: Cast, mediator: Mediator | None = None) -> Case:
    """Divert to people's mediation, assign, record one session."""
    m = mediator or cast.mediator
    act(
        case,
        cast.town,
        "divert",
        channel="peoples_mediation",
        organisation=cast.committee.pk,
    )
    act(case, cast.town, "assign", mediator=m.pk)
    held = (timezone.now() - timedelta(hours=2)).isoformat()
    return act(
        case,
        m.user or cast.town,
        "record_session",
        held_at=held,
        place="车站街道调解室",
        participants="双方当事人、调解员",
        minutes="双方陈述，调解员释法说理",
    )


def agree(case: Case, actor: User, days: int = 10) -> Case:
    today = timezone.localdate()
    return act(
        case,
        actor,
        "agree",
        terms="李四于十日内拆除堆放物，张三不再主张赔偿",
        signed_on=today.isoformat(),
        perform_by=(today + timedelta(days=days)).isoformat(),
    )
