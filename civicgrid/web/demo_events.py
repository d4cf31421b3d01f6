"""Demo events: 张店区's departments, the shipped workflows and catalogue, and a few
reports of 车站街道 at every stage of the loop."""

from typing import Any

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, User
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.events.engine import event_act
from civicgrid.events.models import Event, Matter, Source
from civicgrid.events.services import event_report, workflow_install_shipped
from civicgrid.regions.models import Grid, Region

DEPARTMENTS = [
    ("张店区市场监督管理局", Department.Kind.MARKET),
    ("张店区生态环境分局", Department.Kind.ENVIRONMENT),
    ("张店区应急管理局", Department.Kind.EMERGENCY),
    ("张店区住房和城乡建设局", Department.Kind.HOUSING),
    ("公安张店分局", Department.Kind.POLICE),
]
# (title, description, matter name contains, steps to take)
REPORTS = [  # the first lies in the demo grid worker's grid
    (
        "邻里噪音纠纷",
        "楼上装修周末早七点施工。",
        "邻里纠纷",
        ["accept", "handle_in_grid", "verify"],
    ),
    ("小区门口占道经营", "早市摊贩占满人行道，行人只能走机动车道。", "占道", []),
    (
        "楼道堆放杂物堵塞消防通道",
        "3号楼一单元楼道堆满纸箱和旧家具。",
        "消防通道",
        ["accept"],
    ),
    (
        "饭店油烟直排扰民",
        "楼下饭店油烟直接排到居民窗口。",
        "油烟",
        ["accept", "dispatch"],
    ),
    (
        "路灯损坏",
        "和平路北段连续五盏路灯不亮。",
        "路灯",
        ["accept", "dispatch", "sign_for"],
    ),
    (
        "垃圾清运不及时",
        "垃圾桶满溢三天无人清运。",
        "垃圾",
        ["accept", "dispatch", "sign_for", "report_done"],
    ),
]


def _matter(hint: str) -> Matter | None:
    return (
        Matter.objects.filter(name__contains=hint, active=True).order_by("code").first()
    )


def load_demo_events(users: dict[str, User]) -> int:
    """Returns the number of demo events (none are added twice)."""
    workflow_install_shipped(actor=users["admin"])
    catalogue_load_default(actor=users["admin"])
    zhangdian = Region.objects.get(region_code="370303")
    for name, kind in DEPARTMENTS:
        if not Department.objects.filter(region=zhangdian, name=name).exists():
            accounts.department_create(
                actor=users["admin"], name=name, kind=kind, region=zhangdian
            )
    if Event.objects.exists():
        return Event.objects.count()
    urban = Department.objects.get(region=zhangdian, name="张店区城市管理局")
    grids = list(
        Grid.objects.filter(region_code__startswith="370303001").order_by("code")[:6]
    )
    actors: dict[str, Any] = {
        "accept": users["town_a"],
        "dispatch": users["town_a"],
        "sign_for": users["dept_urban"],
        "report_done": users["dept_urban"],
        "handle_in_grid": users["gridworker"],
        "verify": users["gridworker"],
    }
    data: dict[str, dict[str, Any]] = {
        "dispatch": {"lead_department": urban.pk},
        "report_done": {"result": "已按要求处置完毕"},
        "handle_in_grid": {"result": "网格员上门调解，双方达成一致"},
    }
    for grid, (title, text, hint, steps) in zip(grids, REPORTS, strict=False):
        p = grid.geometry.representative_point()
        event, _ = event_report(
            actor=users["citizen"],
            source=Source.CITIZEN_WEB,
            title=title,
            description=text,
            lon=p.x,
            lat=p.y,
            matter=_matter(hint),
            reporter_phone="13912345678",
        )
        for step in steps:
            event = event_act(
                actor=actors[step],
                event_id=event.pk,
                transition=step,
                version=event.version,
                data=data.get(step, {}),
            )
    return Event.objects.count()
