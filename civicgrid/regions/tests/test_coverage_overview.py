"""The coverage map of a region with many grids (a city) is an overview: one line
drawing of the grid outlines, rounded and lighter than the grid-by-grid map, with
the gaps and overlaps still exact."""

import json

import pytest
from django.test import Client
from shapely import prepare
from shapely.geometry import shape

from civicgrid.regions import coverage
from civicgrid.regions.coverage import check_coverage, coverage_map_data
from civicgrid.regions.models import Region
from civicgrid.regions.tests.test_coverage import (
    QUARTERS,
    TOWN_BOX,
    make_town,
    metres_box,
)
from civicgrid.regions.tests.test_coverage_admin import map_data

pytestmark = pytest.mark.django_db


def test_a_region_with_many_grids_gets_a_lighter_overview(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    county = Region.objects.get(code="370303000000")  # 张店区's demo grids
    report = check_coverage(county)
    detailed = coverage_map_data(county, report)
    monkeypatch.setattr(coverage, "OVERVIEW_GRIDS", 10)
    overview = coverage_map_data(county, report)
    assert detailed["outlines"] is None and len(detailed["grids"]["features"]) > 10
    assert overview["grids"]["features"] == []
    lines = shape(overview["outlines"])
    assert lines.geom_type in ("MultiLineString", "LineString")
    # Every grid's outline is in the drawing (to the simplification's 10 m). The
    # band around the drawing is made once (buffering the whole county's lines is
    # the costly part) and prepared, so every grid can be checked.
    grids = [shape(f["geometry"]) for f in detailed["grids"]["features"]]
    band = lines.buffer(2e-4)
    prepare(band)
    assert all(band.covers(g.boundary) for g in grids)
    # Coordinates rounded to 5 decimals, and the whole is much lighter.
    coordinates = json.dumps(overview["outlines"]["coordinates"])
    assert all(
        len(n.split(".")[1]) <= 5
        for n in coordinates.replace("[", "").replace("]", "").split(", ")
    )
    assert len(json.dumps(overview)) < 0.7 * len(json.dumps(detailed))


def test_the_overview_keeps_the_gaps_exact(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    hole = metres_box(100, 100, 130, 120)
    town = make_town([QUARTERS[0].difference(hole), *QUARTERS[1:]], TOWN_BOX)
    monkeypatch.setattr(coverage, "OVERVIEW_GRIDS", 2)
    body = admin_client.get(f"/admin/regions/region/{town.pk}/coverage/").content
    data = map_data(body.decode())
    assert data["grids"]["features"] == [] and data["outlines"]
    assert 'id="coverage-overview"' in body.decode()
    (gap,) = data["pieces"]["features"]
    assert shape(gap["geometry"]).symmetric_difference(hole).area < 1e-3 * hole.area
    assert b'", "' not in body.split(b'id="coverage-data"')[1][:2000]
