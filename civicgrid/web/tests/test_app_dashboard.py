"""The grid worker app (shell, manifest, service worker, my grid and tasks) and the
leadership dashboard (figures per area within scope, live counts fragment)."""

import json
from collections.abc import Callable

from django.test import Client

from civicgrid.accounts.models import User
from civicgrid.events.engine import event_act
from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_app_shows_my_grid_and_my_tasks(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report(title="占道摆摊")
    event_act(actor=cast.town, event_id=event.pk, transition="accept", version=1)
    response = signed_in(cast.grid_worker).get("/app/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "占道摆摊" in body and "我的任务" in body and "待发送" in body
    grids = json.loads(
        body.split('id="app-grids" type="application/json">')[1].split("</script>")[0]
    )
    assert [f["properties"]["code"] for f in grids["features"]] == [cast.grid.code]
    assert 'rel="manifest"' in body and "/app/sw.js" in body


def test_the_app_needs_a_staff_sign_in(cast: Cast) -> None:
    response = Client().get("/app/")
    assert response.status_code == 302 and "/workbench/login/" in response["Location"]
    assert signed_in(cast.citizen).get("/app/").status_code == 403


def test_manifest_and_service_worker(cast: Cast) -> None:
    manifest = Client().get("/app/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    body = manifest.json()
    assert body["start_url"] == "/app/" and body["display"] == "standalone"
    assert body["icons"][0]["src"].endswith(".svg")
    sw = Client().get("/app/sw.js")
    assert sw["Content-Type"].startswith("application/javascript")
    assert sw["Service-Worker-Allowed"] == "/app/"
    text = sw.content.decode()
    assert '"/app/"' in text and "leaflet.js" in text and "app.js" in text


def test_the_dashboard_figures_follow_the_area_and_the_scope(
    cast: Cast, report: Callable[..., Event]
) -> None:
    report(title="甲")
    report(title="乙")
    city = signed_in(cast.city)
    page = city.get("/dashboard/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "淄博市" in body and "vendor/htmx/htmx.min.js" in body
    assert 'hx-trigger="every 15s"' in body
    figures = city.get("/dashboard/areas/370300000000/").json()
    counties = {
        f["properties"]["name"]: f["properties"] for f in figures["map"]["features"]
    }
    assert counties["张店区"]["events"] == 2 and counties["淄川区"]["events"] == 0
    assert figures["live"]["total"] == 2 and figures["live"]["open"] == 2
    assert sum(figures["trend"]["reported"]) == 2
    assert figures["matters"] == [{"name": "占道经营", "n": 2}]
    # Drill down to the county: its towns.
    county = city.get("/dashboard/areas/370303000000/").json()
    towns = {
        f["properties"]["code"]: f["properties"] for f in county["map"]["features"]
    }
    assert towns["370303001000"]["events"] == 2
    assert [p["name"] for p in county["path"]] == ["淄博市", "张店区"]
    # A town officer cannot look at the county or another city.
    town = signed_in(cast.town)
    assert town.get("/dashboard/areas/370303000000/").status_code == 404
    assert town.get("/dashboard/areas/370200000000/").status_code == 404
    live = town.get("/dashboard/areas/370303001000/live/")
    assert live.status_code == 200 and 'id="db-total">2<' in live.content.decode()


def test_the_dashboard_refuses_posts_without_its_roles_with_a_reason(
    cast: Cast,
) -> None:
    """A grid worker or a department officer gets a 403 page that says why and
    where to go; leaders and center staff get the dashboard."""
    grid = signed_in(cast.grid_worker)
    page = grid.get("/dashboard/")
    assert page.status_code == 403
    body = page.content.decode()
    assert "领导驾驶舱未向您的岗位开放" in body and 'href="/app/"' in body
    assert grid.get("/dashboard/areas/370303001000/").status_code == 403
    assert grid.get("/dashboard/areas/370303001000/live/").status_code == 403
    department = signed_in(cast.urban).get("/dashboard/")
    assert department.status_code == 403
    assert 'href="/app/"' not in department.content.decode()
    assert signed_in(cast.town).get("/dashboard/").status_code == 200
