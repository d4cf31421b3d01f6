"""Demo households: a few families of the demo grid worker's grid, with members,
special groups (独居老人, 残疾人...) and two visits, written through the registry's
services (validated, encrypted, audited) and idempotent on their keys: loading the
demo again adds nothing.

Every name, ID number and phone below is invented; the ID numbers carry a valid
GB 11643 check digit under 张店区's code (370303) so the registry accepts them."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone
from shapely.geometry import Point

from civicgrid.accounts.models import User
from civicgrid.core.personal import id_number_is_valid
from civicgrid.regions.models import Grid
from civicgrid.registry.models import (
    HouseKind,
    Relation,
    Residence,
    SpecialGroup,
    VisitKind,
)
from civicgrid.registry.services import household_collect, request_digest, visit_record

KEY_PREFIX = "demo-registry"


def demo_id_number(birth: str, serial: int, area: str = "370303") -> str:
    """A GB 11643 number: area code, birth date, serial (odd: male, even: female)
    and the ISO 7064 MOD 11-2 check character."""
    body = f"{area}{birth}{serial:03d}"
    return next(body + c for c in "0123456789X" if id_number_is_valid(body + c))


@dataclass
class DemoPerson:
    name: str
    birth: str  # YYYYMMDD
    serial: int
    relation: str
    phone: str = ""
    residence: str = Residence.PERMANENT
    groups: list[str] = field(default_factory=list)

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id_number": demo_id_number(self.birth, self.serial),
            "phone": self.phone,
            "relation": self.relation,
            "residence": self.residence,
            "groups": list(self.groups),
        }


@dataclass
class DemoHousehold:
    address: str
    kind: str
    persons: list[DemoPerson]
    note: str = ""


P = DemoPerson
H, SP, CH, PA, TE = (
    Relation.HEAD,
    Relation.SPOUSE,
    Relation.CHILD,
    Relation.PARENT,
    Relation.TENANT,
)
FLOATING = Residence.FLOATING

HOUSEHOLDS = [
    DemoHousehold(
        "和平小区1号楼1单元101",
        HouseKind.OWNED,
        [
            P(
                "王秀英",
                "19420315",
                24,
                H,
                "13953301216",
                groups=[SpecialGroup.ELDERLY_ALONE],
            )
        ],
        "老人独居，子女在外地，每周走访一次。",
    ),
    DemoHousehold(
        "和平小区1号楼2单元302",
        HouseKind.OWNED,
        [
            P("李建国", "19780611", 13, H, "13806436521"),
            P("张丽", "19800923", 26, SP, "13864329087"),
            P("李子涵", "20120405", 42, CH),
        ],
    ),
    DemoHousehold(
        "和平小区2号楼1单元201",
        HouseKind.OWNED,
        [
            P(
                "赵德明",
                "19550802",
                35,
                H,
                "13355331482",
                groups=[SpecialGroup.DISABLED],
            ),
            P("孙桂兰", "19570127", 48, SP, "13355336730"),
        ],
        "户主肢体残疾，行动不便，需关注楼道通行。",
    ),
    DemoHousehold(
        "和平小区2号楼3单元502",
        HouseKind.RENTED,
        [
            P("刘洋", "19950718", 57, TE, "15806420318", residence=FLOATING),
            P("陈晓雪", "19970304", 64, TE, "15806427745", residence=FLOATING),
        ],
        "出租房屋，租期至明年6月。",
    ),
    DemoHousehold(
        "和平小区3号楼1单元102",
        HouseKind.OWNED,
        [
            P(
                "周玉珍",
                "19380909",
                82,
                H,
                "05332187364",
                groups=[SpecialGroup.ELDERLY_ALONE, SpecialGroup.DISABLED],
            )
        ],
        "独居老人，听力残疾，上门需敲门并电话告知。",
    ),
    DemoHousehold(
        "和平小区3号楼2单元401",
        HouseKind.OWNED,
        [
            P("吴海涛", "19851130", 17, H, "18753306692"),
            P("郑静", "19870516", 28, SP, "18753301875"),
            P("吴雨桐", "20150822", 86, CH),
            P("吴志强", "19560103", 71, PA, groups=[SpecialGroup.VETERAN]),
        ],
    ),
    DemoHousehold(
        "共青团路88号临街商铺",
        HouseKind.SHOP,
        [P("马俊", "19900214", 93, H, "13561608843", residence=FLOATING)],
        "小吃店，店主夜间住店内。",
    ),
    DemoHousehold(
        "和平小区4号楼1单元601",
        HouseKind.OWNED,
        [
            P(
                "冯淑芬",
                "19640428",
                20,
                H,
                "13708948156",
                groups=[SpecialGroup.HARDSHIP],
            ),
            P("冯磊", "19920617", 33, CH, "13708942260"),
        ],
        "低保家庭。",
    ),
    DemoHousehold(
        "和平小区4号楼2单元202",
        HouseKind.RENTED,
        [
            P("黄志刚", "19830305", 55, TE, "17853301924", residence=FLOATING),
            P("黄梓萱", "20180112", 68, CH, residence=FLOATING),
        ],
    ),
    DemoHousehold(
        "和平小区5号楼1单元301",
        HouseKind.OWNED,
        [
            P("许明亮", "19700725", 39, H, "13953367208"),
            P("韩秀梅", "19720810", 46, SP, "13953362417"),
        ],
    ),
]

# (household index, kind, days ago, notes)
VISITS = [
    (0, VisitKind.CARE, 3, "老人身体尚可，家中燃气灶已检查，提醒按时服药。"),
    (4, VisitKind.SAFETY_CHECK, 1, "检查电线老化情况，已联系社区更换插座。"),
]


def _positions(grid: Grid, count: int) -> list[tuple[float, float]]:
    """``count`` points spread inside the grid, the same on every run."""
    geometry = grid.geometry
    minx, miny, maxx, maxy = geometry.bounds
    inside = [
        (round(x, 6), round(y, 6))
        for i in range(1, 12)
        for j in range(1, 12)
        for x, y in [(minx + (maxx - minx) * i / 12, miny + (maxy - miny) * j / 12)]
        if geometry.covers(Point(x, y))
    ]
    if not inside:
        p = geometry.representative_point()
        inside = [(p.x, p.y)]
    step = max(len(inside) // count, 1)
    return [inside[(n * step) % len(inside)] for n in range(count)]


def demo_worker_grid(worker: User) -> Grid:
    post = worker.posts.filter(active=True, grid__isnull=False).select_related("grid")
    first = post.order_by("pk").first()
    if first is None or first.grid is None:
        raise RuntimeError("the demo grid worker has no grid")
    return first.grid


def load_demo_households(users: dict[str, User]) -> int:
    """Registers the demo households in the demo grid worker's grid (each once)
    and records two visits; returns the number of households in that grid."""
    worker = users["gridworker"]
    grid = demo_worker_grid(worker)
    positions = _positions(grid, len(HOUSEHOLDS))
    households = []
    for n, (demo, (lon, lat)) in enumerate(zip(HOUSEHOLDS, positions, strict=True)):
        fields = {
            "address": demo.address,
            "kind": demo.kind,
            "lon": lon,
            "lat": lat,
            "note": demo.note,
        }
        persons = [p.entry() for p in demo.persons]
        payload = {"grid": grid.code, "fields": fields, "persons": persons}
        collection, _ = household_collect(
            actor=worker,
            grid=grid,
            fields=fields,
            persons=persons,
            idempotency_key=f"{KEY_PREFIX}-household-{n + 1:02d}",
            digest=request_digest(payload),
            data_source="demo",
        )
        households.append(collection.household)
    now = timezone.now()
    for n, (index, kind, days, notes) in enumerate(VISITS):
        household = households[index]
        # The time is not in the fingerprint: a replay on a later day is the same visit.
        visit_record(
            actor=worker,
            household=household,
            kind=kind,
            visited_at=now - timedelta(days=days),
            lon=household.lon,
            lat=household.lat,
            notes=notes,
            idempotency_key=f"{KEY_PREFIX}-visit-{n + 1:02d}",
            digest=request_digest({"household": household.pk, "notes": notes}),
        )
    return grid.households_registered.count()
