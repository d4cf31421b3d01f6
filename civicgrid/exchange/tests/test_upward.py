"""Upward reporting between two instances on loopback: the live server plays the
province, the test process plays the cities (淄博 and 济南). Each city sends its
month over HTTP with its own signed credentials; the province keeps one report per
city and month and shows the cities side by side."""

import io
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role, User
from civicgrid.conftest import PASSWORD
from civicgrid.exchange.models import CityReport, Permission, Upstream, UpwardSend
from civicgrid.exchange.systems import system_register
from civicgrid.exchange.tests.conftest import (
    O311,
    citizen_event,
    ensure_reference_data,
    region,
)
from civicgrid.exchange.upward import report_build, report_send

KEEP = {"civicgrid.regions"}
pytestmark = pytest.mark.django_db(
    transaction=True,
    available_apps=[a for a in settings.INSTALLED_APPS if a not in KEEP],
)


@pytest.fixture(scope="module", autouse=True)
def reinstall_reference_data(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        ensure_reference_data()


def city_instance(province_url: str, city: str, name: str) -> Upstream:
    """The province registers the city (credentials); the city stores them."""
    system, secret = system_register(
        actor=None,
        code=f"city-{city}",
        name=name,
        kind="other",
        permissions=[Permission.REPORTS_WRITE],
        region_prefixes=[city],
    )
    return Upstream.objects.create(
        name="山东省市域社会治理平台",
        url=province_url,
        city_code=city,
        key_id=system.key_id,
        secret=secret,
    )


def test_two_cities_report_to_the_province_over_http(
    o311: O311, live_server: Any, client: Client
) -> None:
    month = f"{timezone.localdate():%Y-%m}"
    zibo = city_instance(live_server.url, "3703", "淄博市平台")
    jinan = city_instance(live_server.url, "3701", "济南市平台")
    citizen_event(o311, "路灯不亮")
    citizen_event(o311, "井盖缺失")

    sent = report_send(actor=None, upstream=zibo, month=month)
    assert sent.ok and sent.status_code == 201, sent.answer
    again = report_send(actor=None, upstream=zibo, month=month)
    assert again.ok and again.status_code == 200  # one report per city and month
    assert report_send(actor=None, upstream=jinan, month=month).status_code == 201
    stored = {r.city_code: r.payload for r in CityReport.objects.filter(month=month)}
    assert stored["3703"]["events"]["reported"] == 2
    assert stored["3703"]["city_name"] == "淄博市"
    assert stored["3701"]["events"]["reported"] == 0
    assert set(stored["3703"]["disputes"]) >= {"cases", "success_rate", "high_risk"}

    # A city may not report for another one: 淄博's credentials, 济南's figures.
    forged = Upstream.objects.create(
        name="forged",
        url=live_server.url,
        city_code="3701",
        key_id=zibo.key_id,
        secret=zibo.secret,
    )
    refused = report_send(actor=None, upstream=forged, month=month)
    assert refused.status_code == 403 and not refused.ok
    # A wrong secret is refused before anything is read.
    bad = Upstream.objects.create(
        name="bad",
        url=live_server.url,
        city_code="3703",
        key_id=zibo.key_id,
        secret="wrong",
    )
    assert report_send(actor=None, upstream=bad, month=month).status_code == 401
    assert UpwardSend.objects.filter(ok=True).count() == 3

    province = accounts.user_create(actor=None, username="prov", password=PASSWORD)
    accounts.staff_post_create(
        actor=None,
        user=province,
        role=Role.CENTER_STAFF,
        region=region("37"),
    )
    client.force_login(province)
    page = client.get(f"/exchange/cities/?month={month}").content.decode()
    assert page.index("济南市") < page.index("淄博市")  # side by side, by code
    with translation.override("zh-hans"):
        label = translation.gettext("Events reported")
    assert f"<th>{label}</th><td>0</td><td>2</td>" in page  # 济南 0, 淄博 2

    city_staff: User = o311.center  # 淄博's town staff see no province page rows
    client.force_login(city_staff)
    own = client.get(f"/exchange/cities/?month={month}").content.decode()
    assert "济南市" not in own


def test_the_command_sends_and_reports_failures(o311: O311, live_server: Any) -> None:
    month = f"{timezone.localdate():%Y-%m}"
    city_instance(live_server.url, "3703", "淄博市平台")
    out = io.StringIO()
    call_command("send_upward_report", "--month", month, stdout=out)
    assert "201" in out.getvalue()
    Upstream.objects.update(url="http://127.0.0.1:9")  # nothing listens on port 9
    with pytest.raises(Exception, match="1 sends failed"):
        call_command("send_upward_report", "--month", month, stdout=io.StringIO())
    assert report_build("3703", month)["events"]["reported"] == 0


def test_the_scheduled_job_sends_the_month_once_it_is_published(
    o311: O311, live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped schedule's job, enqueued by the scheduler and run by the database
    worker: it waits for the peace index month, sends it once published (a failed
    send is tried again on the next run), and never sends a month twice."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from civicgrid.core.scheduler import scheduler_tick
    from civicgrid.exchange.tasks import send_upward_reports
    from civicgrid.exchange.upward import months_back
    from civicgrid.peace_index import catalogue as peace_catalogue
    from civicgrid.peace_index import services as peace
    from civicgrid.peace_index.models import IndexKind

    job = "civicgrid.exchange.tasks.send_upward_reports"
    shipped = [e for e in settings.CIVICGRID_SCHEDULE if e["task"] == job]
    assert shipped, "the upward report is not in the shipped schedule"
    settings.CIVICGRID_SCHEDULE = shipped
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def run_worker() -> Any:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v0")
        for s, handler in saved.items():
            signal.signal(s, handler)
        done = DBTaskResult.objects.filter(task_path=job).order_by("-enqueued_at")[0]
        assert done.status == TaskResultStatus.SUCCESSFUL, done.traceback
        return done.return_value

    zibo = city_instance(live_server.url, "3703", "淄博市平台")
    month = months_back(timezone.localdate())[0]
    assert [name for name, _ in scheduler_tick()] == [job]
    first = run_worker()
    assert first == {"sent": [], "failed": [], "waiting": [f"3703 {month}"]}
    assert not CityReport.objects.exists()

    peace_catalogue.catalogue_install_default(actor=None, kind=IndexKind.PEACE)
    run = peace.month_compute(
        actor=None, kind=IndexKind.PEACE, city_code="3703", month=month
    )
    peace.run_publish(actor=None, run=peace.run_review(actor=None, run=run))

    Upstream.objects.filter(pk=zibo.pk).update(url="http://127.0.0.1:9")
    send_upward_reports.enqueue()
    assert run_worker()["failed"] == [f"3703 {month}"]
    Upstream.objects.filter(pk=zibo.pk).update(url=live_server.url)
    send_upward_reports.enqueue()
    assert run_worker()["sent"] == [f"3703 {month}"]
    stored = CityReport.objects.get(city_code="3703", month=month)
    assert stored.payload["peace_index"]["peace"] is not None
    send_upward_reports.enqueue()
    assert run_worker() == {"sent": [], "failed": [], "waiting": []}
    assert UpwardSend.objects.filter(upstream=zibo, month=month, ok=True).count() == 1
