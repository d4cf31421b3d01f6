"""The coverage check on the admin map: a town's grids and its crafted gap and
overlap are drawn from json_script data, each with its area; scripts are static."""

import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from shapely.geometry import shape

from civicgrid.accounts.models import Role, User
from civicgrid.regions.tests.test_coverage import (
    QUARTERS,
    TOWN_BOX,
    grid_codes,
    make_town,
    metres_box,
    reference_area,
)

pytestmark = pytest.mark.django_db


def map_data(body: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="coverage-data" type="application/json">(.*?)</script>',
        body,
        re.S,
    )
    assert match, "no coverage data on the page"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_coverage_map_shows_the_crafted_gap_and_overlap(admin_client: Client) -> None:
    hole = metres_box(100, 100, 130, 120)
    grids = [
        QUARTERS[0].difference(hole),
        metres_box(480, 0, 1000, 500),  # 20 m into its western neighbour
        QUARTERS[2],
        QUARTERS[3],
    ]
    town = make_town(grids, TOWN_BOX)
    change = admin_client.get(f"/admin/regions/region/{town.pk}/change/")
    url = f"/admin/regions/region/{town.pk}/coverage/"
    assert url in change.content.decode()
    response = admin_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    data = map_data(body)
    assert sorted(f["properties"]["code"] for f in data["grids"]["features"]) == sorted(
        grid_codes(4)
    )
    pieces = {f["properties"]["kind"]: f for f in data["pieces"]["features"]}
    assert set(pieces) == {"gap", "overlap"}
    gap, overlap = pieces["gap"], pieces["overlap"]
    assert gap["properties"]["area_m2"] == pytest.approx(reference_area(hole), rel=1e-3)
    assert shape(gap["geometry"]).symmetric_difference(hole).area < 1e-3 * hole.area
    expected = metres_box(480, 0, 500, 500)
    assert overlap["properties"]["area_m2"] == pytest.approx(
        reference_area(expected), rel=1e-3
    )
    assert overlap["properties"]["grids"] == grid_codes(2)
    assert data["boundary"]["type"] == "Polygon"
    # The same pieces are listed under the map; the script is a static file.
    assert 'id="coverage-pieces"' in body
    assert "缝隙" in body and "重叠" in body  # the zh interface
    assert f"{gap['properties']['area_m2']:.2f}" in body
    assert "/static/regions/coverage-map.js" in body
    assert finders.find("regions/coverage-map.js")
    assert "<script>" not in body and "onclick" not in body


def test_coverage_page_for_sysadmin_in_scope_only(make_staff: Any) -> None:
    town = make_town(QUARTERS, TOWN_BOX)  # 济南 (3701)
    inside: User = make_staff("cov-sys", Role.SYSADMIN, region="3701")
    outside: User = make_staff("cov-sys2", Role.SYSADMIN, region="3703")
    client = Client()
    client.force_login(inside)
    response = client.get(f"/admin/regions/region/{town.pk}/coverage/")
    assert response.status_code == 200
    assert map_data(response.content.decode())["pieces"]["features"] == []
    client.force_login(outside)
    assert client.get(f"/admin/regions/region/{town.pk}/coverage/").status_code == 403
    village = town.children.first()
    assert village is not None
    client.force_login(inside)
    assert (
        client.get(f"/admin/regions/region/{village.pk}/coverage/").status_code == 404
    )
