"""The workbench home: queues per role with counts, filters, Excel export, and list
pages whose query count does not grow with the page size."""

from collections.abc import Callable
from io import BytesIO

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from civicgrid.accounts.models import User
from civicgrid.events.engine import event_act
from civicgrid.events.models import Event
from civicgrid.events.supervision import supervision_order_issue, whistle_blow
from civicgrid.events.tests.conftest import Cast

QUEUE = "/workbench/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dispatched(cast: Cast, report: Callable[..., Event], title: str) -> Event:
    event = report(matter=cast.big, title=title)
    event = event_act(
        actor=cast.town, event_id=event.pk, transition="accept", version=1
    )
    return event_act(
        actor=cast.town,
        event_id=event.pk,
        transition="dispatch",
        version=event.version,
        data={"lead_department": cast.urban_dept.pk},
    )


def counts(client: Client) -> dict[str, str]:
    response = client.get(QUEUE)
    assert response.status_code == 200
    return {t["key"]: t["count"] for t in response.context["tabs"]}


def test_each_role_sees_its_own_queues_with_counts(
    cast: Cast, report: Callable[..., Event]
) -> None:
    report(title="新报告")
    event = dispatched(cast, report, "待签收的事件")
    center = counts(signed_in(cast.town))
    assert list(center) == [
        "to_sign",
        "mine",
        "soon",
        "overdue",
        "supervision",
        "whistles",
        "disputes",
        "all",
    ]
    assert center["to_sign"] == 1 and center["all"] == 2
    department = counts(signed_in(cast.urban))
    assert "disputes" not in department
    assert department["to_sign"] == 1 and department["supervision"] == 0
    grid = counts(signed_in(cast.grid_worker))
    assert list(grid) == ["mine", "soon", "overdue", "all"]
    page = signed_in(cast.urban).get(QUEUE, {"tab": "to_sign"}).content.decode()
    assert "待签收的事件" in page and "待签收" in page

    # A supervision order and a whistle put the event in those queues.
    supervision_order_issue(actor=cast.town, event=event, text="尽快处置", hours=4)
    whistle_blow(
        actor=cast.town,
        event=event,
        departments=[cast.urban_dept],
        reason="需要现场处置",
        minutes=30,
    )
    department = counts(signed_in(cast.urban))
    assert department["supervision"] == 1 and department["whistles"] == 1
    assert counts(signed_in(cast.market))["supervision"] == 0
    page = signed_in(cast.urban).get(QUEUE, {"tab": "whistles"}).content.decode()
    assert "待签收的事件" in page


def test_the_dispute_tab_counts_open_cases_and_links_to_them(cast: Cast) -> None:
    body = signed_in(cast.town).get(QUEUE, {"tab": "disputes"}).content.decode()
    assert 'id="ev-disputes-slot"' in body and 'href="/disputes/"' in body
    assert "0 件" in body


def test_filters_narrow_the_list(cast: Cast, report: Callable[..., Event]) -> None:
    report(title="甲事件")
    dispatched(cast, report, "乙事件")
    client = signed_in(cast.town)
    body = client.get(QUEUE, {"tab": "all", "state": "dispatched"}).content.decode()
    assert "乙事件" in body and "甲事件" not in body
    body = client.get(QUEUE, {"tab": "all", "region": "370303001"}).content.decode()
    assert "乙事件" in body and "甲事件" in body
    body = client.get(QUEUE, {"tab": "all", "region": "370302"}).content.decode()
    assert "乙事件" not in body and "甲事件" not in body
    bad = client.get(QUEUE, {"tab": "all", "region": "abc"})
    assert bad.status_code == 200 and "甲事件" in bad.content.decode()


def test_any_list_exports_to_excel(cast: Cast, report: Callable[..., Event]) -> None:
    for i in range(3):
        report(title=f"导出事件{i}")
    dispatched(cast, report, "已交办事件")
    client = signed_in(cast.town)
    response = client.get(QUEUE, {"tab": "all", "export": "xlsx", "size": "20"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("编号", "标题")
    assert {r[1] for r in rows[1:]} == {
        "导出事件0",
        "导出事件1",
        "导出事件2",
        "已交办事件",
    }
    filtered = client.get(
        QUEUE, {"tab": "all", "export": "xlsx", "state": "dispatched"}
    )
    sheet = load_workbook(BytesIO(filtered.content)).active
    assert sheet is not None
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "已交办事件"
    ]


def test_list_queries_do_not_grow_with_the_page_size(
    cast: Cast, report: Callable[..., Event]
) -> None:
    for i in range(24):
        report(title=f"事件{i}")
    dispatched(cast, report, "已交办")
    client = signed_in(cast.town)
    client.get(QUEUE)  # warm the workflow definition cache
    used = {}
    for size in ("20", "100"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(QUEUE, {"tab": "all", "size": size})
        assert response.status_code == 200
        assert len(response.context["events"]) == min(int(size), 25)
        used[size] = len(ctx.captured_queries)
    assert used["100"] <= used["20"], used


def test_the_to_handle_queue_agrees_with_the_engine(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """The SQL of "to handle" offers exactly the events on which the workbench
    (the engine's permission check) offers a step, for every kind of user."""
    from civicgrid.events.selectors import events_visible
    from civicgrid.events.views_staff import available_steps, mine_ids

    report(title="新报告")
    accepted = report(title="已受理")
    event_act(actor=cast.town, event_id=accepted.pk, transition="accept", version=1)
    signed = dispatched(cast, report, "已签收")
    event_act(
        actor=cast.urban,
        event_id=signed.pk,
        transition="sign_for",
        version=signed.version,
    )
    dispatched(cast, report, "待签收")
    small = report(title="网格内办结")
    small = event_act(
        actor=cast.town, event_id=small.pk, transition="accept", version=1
    )
    event_act(
        actor=cast.grid_worker,
        event_id=small.pk,
        transition="handle_in_grid",
        version=small.version,
        data={"result": "已处理"},
    )
    users = [
        cast.town,
        cast.county,
        cast.city,
        cast.grid_worker,
        cast.urban,
        cast.market,
        cast.citizen,
    ]
    for user in users:
        user = User.objects.get(pk=user.pk)
        visible = events_visible(user)
        expected = {
            e.pk
            for e in visible.filter(closed_at__isnull=True)
            if available_steps(user, e)
        }
        assert set(mine_ids(user, visible)) == expected, user.username
