"""Grids are editable in the admin: a map editor, and saves that go through the services."""

import json

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from shapely.geometry import box, mapping

from civicgrid.core.models import AuditRecord
from civicgrid.regions.crs import CRS, geometry_from_wgs84
from civicgrid.regions.locate import locator
from civicgrid.regions.models import Grid, GridIndexVersion

pytestmark = pytest.mark.django_db


def test_change_page_has_the_map_editor_with_local_assets(admin_client: Client) -> None:
    """The grid page carries the Leaflet map, served from our static files."""
    grid = Grid.objects.filter(city_code="3703").first()
    assert grid is not None
    body = admin_client.get(f"/admin/regions/grid/{grid.pk}/change/").content.decode()
    assert 'id="grid-map"' in body and 'id="grid-neighbours"' in body
    assert "/static/vendor/leaflet/leaflet.js" in body
    assert finders.find("vendor/leaflet/leaflet.js")
    assert finders.find("vendor/leaflet-geoman/leaflet-geoman.min.js")


def test_editing_a_grid_in_gcj02_stores_wgs84_and_moves_the_index(
    admin_client: Client,
) -> None:
    """A boundary typed in GCJ-02 is saved in WGS-84, audited, and locate follows it."""
    zhangdian = Grid.objects.filter(region_code__startswith="370303").order_by("code")
    grid, other = zhangdian.first(), zhangdian.last()
    assert grid is not None and other is not None
    version = GridIndexVersion.objects.get(city_code="3703").version
    # Moved onto a spot of another grid of the county, which it wins by its lower code.
    p = other.geometry.representative_point()
    target = box(p.x - 1e-4, p.y - 1e-4, p.x + 1e-4, p.y + 1e-4)
    typed = geometry_from_wgs84(target, CRS.GCJ02)
    response = admin_client.post(
        f"/admin/regions/grid/{grid.pk}/change/",
        {
            "code": grid.code,
            "name": "改过的网格",
            "households": 500,
            "population": 1400,
            "geojson": json.dumps(mapping(typed)),
            "crs": "gcj02",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grid.refresh_from_db()
    assert grid.name == "改过的网格"
    assert grid.geometry.symmetric_difference(target).area < 1e-10
    assert GridIndexVersion.objects.get(city_code="3703").version != version
    assert AuditRecord.objects.filter(
        action="grid.update", object_id=str(grid.pk)
    ).exists()
    locator.refresh()
    assert locator.locate(p.x, p.y) == grid.code


def test_bad_geojson_is_refused_with_a_reason(admin_client: Client) -> None:
    """Unreadable GeoJSON keeps the form open with the reason; nothing is saved."""
    grid = Grid.objects.filter(city_code="3703").first()
    assert grid is not None
    response = admin_client.post(
        f"/admin/regions/grid/{grid.pk}/change/",
        {"code": grid.code, "name": "x", "geojson": "{not json", "crs": "wgs84"},
    )
    assert response.status_code == 200
    assert "GeoJSON" in response.content.decode()
    grid.refresh_from_db()
    assert grid.name != "x"


def test_grid_moved_out_of_its_county_is_refused_in_the_form(
    admin_client: Client,
) -> None:
    """A boundary far from the grid's county is a form error, not a server error."""
    grid = Grid.objects.filter(region_code__startswith="370303").first()
    assert grid is not None
    response = admin_client.post(
        f"/admin/regions/grid/{grid.pk}/change/",
        {
            "code": grid.code,
            "name": "x",
            "crs": "wgs84",
            "geojson": json.dumps(mapping(box(100, 30, 100.01, 30.01))),
        },
    )
    assert response.status_code == 200
    assert "张店区" in response.content.decode()
