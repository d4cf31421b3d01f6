"""The event pages: staff take the loop's steps through the workbench, citizens report
and follow without an account."""

import re
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from civicgrid.accounts.models import Role, User
from civicgrid.conftest import PASSWORD
from civicgrid.events.engine import event_act
from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHONE = "13912345678"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(event: Event) -> str:
    return reverse("workbench:detail", args=[event.code])


def act(client: Client, event: Event, transition: str, **fields: Any) -> Any:
    """Post one step's form as the page does (fields carry the step's prefix)."""
    event.refresh_from_db()
    body: dict[str, Any] = {
        "transition": transition,
        f"{transition}-version": fields.pop("version", event.version),
    }
    body.update({f"{transition}-{k}": v for k, v in fields.items()})
    return client.post(reverse("workbench:act", args=[event.code]), body)


def dispatched(cast: Cast, report: Callable[..., Event], **kwargs: Any) -> Event:
    event = report(matter=cast.big, **kwargs)
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


def test_a_staff_member_signs_in_with_the_workbench_login(cast: Cast) -> None:
    """A center officer who is not a superuser signs in and lands on the queue."""
    client = Client()
    page = client.get(reverse("workbench:queue"))
    assert page.status_code == 302 and "/workbench/login/" in page["Location"]
    login = client.get(reverse("workbench:login"))
    assert "登录工作台" in login.content.decode()
    response = client.post(
        reverse("workbench:login"), {"username": "e_town", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("workbench:queue")).status_code == 200


def test_a_citizen_account_cannot_use_the_workbench(cast: Cast) -> None:
    assert signed_in(cast.citizen).get(reverse("workbench:queue")).status_code == 403


def test_the_center_accepts_and_dispatches_through_the_pages(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """The town center sees the new event waiting for it, accepts it, then
    dispatches it to a lead and a co-handling department."""
    event = report(matter=cast.big)
    client = signed_in(cast.town)

    queue = client.get(reverse("workbench:queue")).content.decode()
    assert event.code in queue
    assert re.search(
        r"待办理</span> <span class=\"ev-count\">1</span>", queue
    ) and re.search(r"待签收</span> <span class=\"ev-count\">1</span>", queue)

    page = client.get(detail_url(event)).content.decode()
    assert "待受理" in page and 'name="transition" value="accept"' in page
    response = act(client, event, "accept", note="已电话核实")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已受理待处置" in page and "已电话核实" in page
    assert cast.urban_dept.name in page  # offered as lead department

    response = act(
        client,
        event,
        "dispatch",
        lead_department=cast.urban_dept.pk,
        co_departments=[cast.market_dept.pk],
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == "dispatched" and event.lead_department == cast.urban_dept
    page = client.get(detail_url(event)).content.decode()
    assert "分流交办" in page and cast.market_dept.name in page


def test_a_department_signs_for_and_reports_done(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = dispatched(cast, report)
    client = signed_in(cast.urban)
    assert (
        event.code
        in client.get(reverse("workbench:queue") + "?tab=mine").content.decode()
    )
    assert 'value="sign_for"' in client.get(detail_url(event)).content.decode()

    assert act(client, event, "sign_for").status_code == 302
    page = client.get(detail_url(event)).content.decode()
    assert "办理中" in page
    assert 'value="co_sign_for"' not in page  # already signed: no second button

    photo = SimpleUploadedFile("done.png", PNG, content_type="image/png")
    response = act(client, event, "report_done", result="摊位已清理", photos=photo)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == "handled"
    assert event.attachments.count() == 1
    assert "摊位已清理" in client.get(detail_url(event)).content.decode()


def test_a_required_field_is_asked_for_in_chinese(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = dispatched(cast, report)
    client = signed_in(cast.urban)
    act(client, event, "sign_for")
    response = act(client, event, "report_done", result="")
    assert response.status_code == 400
    assert "该字段是必填项" in response.content.decode()


def test_a_stale_version_shows_the_current_state(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., User]
) -> None:
    """Two officers open the same event; the second to act is told and sees the
    state the first left it in."""
    event = report(matter=cast.big)
    client = signed_in(cast.town)
    colleague = make_staff("e_town2", Role.CENTER_STAFF, region="370303001")
    event_act(actor=colleague, event_id=event.pk, transition="accept", version=1)
    response = act(client, event, "accept", version=1)
    page = response.content.decode()
    assert response.status_code == 409
    assert "该事件已被他人处理，已刷新为最新状态" in page
    assert "已受理待处置" in page


def test_engine_refusals_are_shown_with_their_reason(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report(matter=cast.big)
    town = signed_in(cast.town)
    response = act(town, event, "merge", duplicate_of="3703-00000000-9999")
    assert response.status_code == 400
    assert "未能执行" in response.content.decode()
    assert "duplicate_of" in response.content.decode()

    worker = signed_in(cast.grid_worker)
    response = act(worker, event, "accept")
    assert response.status_code == 403
    assert "无权" in response.content.decode()
    event.refresh_from_db()
    assert event.state == "reported"


def test_the_phone_number_is_masked_everywhere(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report(matter=cast.big)  # the fixture reports with 13912345678
    client = signed_in(cast.town)
    for url in (detail_url(event), reverse("workbench:queue") + "?tab=all"):
        page = client.get(url).content.decode()
        assert PHONE not in page
    assert "139****5678" in client.get(detail_url(event)).content.decode()
    track = Client().get(
        reverse("report:track"), {"code": event.code, "token": event.tracking_token}
    )
    assert track.status_code == 200 and "139" not in track.content.decode()


def test_another_towns_officer_gets_404(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., User]
) -> None:
    event = report(matter=cast.big)
    other = make_staff("e_other_town", Role.CENTER_STAFF, region="370303002")
    client = signed_in(other)
    assert client.get(detail_url(event)).status_code == 404
    assert act(client, event, "accept").status_code == 404
    assert (
        event.code
        not in client.get(reverse("workbench:queue") + "?tab=all").content.decode()
    )


def test_attachments_only_reach_those_who_see_the_event(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., User]
) -> None:
    from civicgrid.events.uploads import check_photo

    event = report(matter=cast.big, photos=[check_photo(PNG)])
    attachment = event.attachments.get()
    url = reverse("workbench:attachment", args=[attachment.pk])

    town = signed_in(cast.town)
    assert url in town.get(detail_url(event)).content.decode()
    response = town.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]

    other = make_staff("e_other_town2", Role.CENTER_STAFF, region="370303002")
    assert signed_in(other).get(url).status_code == 404
    assert signed_in(cast.market).get(url).status_code == 404  # never assigned
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/workbench/login/" in anonymous["Location"]


def _report_form(client: Client) -> dict[str, str]:
    page = client.get(reverse("report:form")).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page)
    assert key is not None
    return {"idempotency_key": key.group(1)}


def test_a_citizen_reports_without_an_account_and_follows_it(cast: Cast) -> None:
    client = Client()
    page = client.get(reverse("report:form"))
    assert page.status_code == 200 and "ev-report-map" in page.content.decode()
    p = cast.grid.geometry.representative_point()
    body = {
        **_report_form(client),
        "title": "小区门口路灯不亮",
        "description": "晚上很黑，老人出行不便",
        "lon": f"{p.x:.6f}",
        "lat": f"{p.y:.6f}",
        "reporter_phone": PHONE,
        "photos": SimpleUploadedFile("lamp.png", PNG, content_type="image/png"),
    }
    response = client.post(reverse("report:form"), body)
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    event = Event.objects.get(title="小区门口路灯不亮")
    assert event.source == "citizen_web" and event.reporter is None
    assert event.code in done and event.tracking_token in done
    assert event.attachments.count() == 1

    track = client.get(
        reverse("report:track"), {"code": event.code, "token": event.tracking_token}
    )
    text = track.content.decode()
    assert track.status_code == 200
    assert "小区门口路灯不亮" in text and "待受理" in text and "上报" in text
    assert PHONE not in text and PHONE not in done

    wrong = client.get(reverse("report:track"), {"code": event.code, "token": "nope"})
    assert wrong.status_code == 404
    assert "未找到" in wrong.content.decode()


def test_a_double_submit_makes_one_report(cast: Cast) -> None:
    client = Client()
    p = cast.grid.geometry.representative_point()
    body = {
        **_report_form(client),
        "title": "井盖丢失",
        "description": "人行道上的井盖不见了",
        "lon": f"{p.x:.6f}",
        "lat": f"{p.y:.6f}",
    }
    first = client.post(reverse("report:form"), body)
    second = client.post(reverse("report:form"), body)
    assert first.status_code == second.status_code == 302
    assert Event.objects.filter(title="井盖丢失").count() == 1


def test_a_report_outside_every_grid_is_refused_in_chinese(cast: Cast) -> None:
    client = Client()
    body = {
        **_report_form(client),
        "title": "测试",
        "description": "测试",
        "lon": "100.0",
        "lat": "30.0",
    }
    response = client.post(reverse("report:form"), body)
    assert response.status_code == 400
    assert "不在本平台服务的范围内" in response.content.decode()
    missing = client.post(reverse("report:form"), {**body, "lon": "", "lat": ""})
    assert "请在地图上点选" in missing.content.decode()


def test_the_timeline_names_supervision_records_in_chinese(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """A whistle is a timeline record, not a step of the loop: the staff page shows
    its label, not the internal name."""
    from civicgrid.events import supervision

    event = report()
    supervision.whistle_blow(
        actor=cast.grid_worker,
        event=event,
        departments=[cast.urban_dept],
        reason="多部门联合处置",
        minutes=30,
    )
    page = signed_in(cast.town).get(detail_url(event)).content.decode()
    assert "吹哨" in page and "被召集部门" in page and cast.urban_dept.name in page
    assert ">whistle<" not in page and ">due_at<" not in page
