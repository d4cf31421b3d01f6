"""Coverage check: crafted gaps, overlaps and spills are all found, with their areas."""

import math

import pytest
from django.core.management import CommandError, call_command
from pyproj import Geod
from rest_framework.test import APIClient
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from civicgrid.accounts.models import User
from civicgrid.regions import services
from civicgrid.regions.coverage import check_coverage
from civicgrid.regions.models import Region

pytestmark = pytest.mark.django_db

GEOD = Geod(ellps="WGS84")
LON0, LAT0 = 117.0, 36.65  # 济南市历下区: no demo grids there
TOWN = "370102001"  # 解放路街道


def metres_box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A lon/lat rectangle given in metres east/north of (LON0, LAT0)."""
    kx = 111_320 * math.cos(math.radians(LAT0))
    ky = 110_574
    return box(LON0 + x0 / kx, LAT0 + y0 / ky, LON0 + x1 / kx, LAT0 + y1 / ky)


def reference_area(geom: BaseGeometry) -> float:
    """Independent reference: pyproj's geodesic area."""
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def villages() -> list[str]:
    return list(
        Region.objects.filter(region_code__startswith=TOWN, level="village")
        .order_by("code")
        .values_list("region_code", flat=True)[:4]
    )


def grid_codes(n: int) -> list[str]:
    """The codes make_town gives its grids, in order."""
    return [f"{villages()[i % 4]}{i + 1:03d}" for i in range(n)]


def make_town(grids: list[BaseGeometry], boundary: BaseGeometry | None) -> Region:
    town = Region.objects.get(region_code=TOWN)
    town.boundary = boundary
    town.save(update_fields=["boundary"])
    for i, (code, geom) in enumerate(zip(grid_codes(len(grids)), grids, strict=True)):
        services.grid_create(actor=None, code=code, name=f"g{i}", geometry=geom)
    return town


QUARTERS = [
    metres_box(0, 0, 500, 500),
    metres_box(500, 0, 1000, 500),
    metres_box(0, 500, 500, 1000),
    metres_box(500, 500, 1000, 1000),
]
TOWN_BOX = metres_box(0, 0, 1000, 1000)


def test_exact_tiling_passes() -> None:
    """Four quarters tiling the town: no gap, no overlap."""
    report = check_coverage(make_town(QUARTERS, TOWN_BOX))
    assert report.ok and report.grid_count == 4
    assert report.region_area_m2 == pytest.approx(reference_area(TOWN_BOX), rel=1e-4)


def test_every_gap_is_found_with_its_area_and_place() -> None:
    """Two holes cut into the grids are both reported with their areas and locations."""
    hole1, hole2 = metres_box(100, 100, 130, 120), metres_box(700, 800, 760, 850)
    grids = [
        QUARTERS[0].difference(hole1),
        QUARTERS[1],
        QUARTERS[2],
        QUARTERS[3].difference(hole2),
    ]
    report = check_coverage(make_town(grids, TOWN_BOX))
    assert not report.ok and not report.overlaps
    assert len(report.gaps) == 2
    found = sorted(report.gaps, key=lambda p: p.area_m2)
    for piece, hole in zip(found, [hole1, hole2], strict=True):
        assert piece.area_m2 == pytest.approx(reference_area(hole), rel=1e-3)
        assert hole.contains(
            Polygon(piece.geometry["coordinates"][0]).representative_point()
        )
        assert hole.buffer(1e-9).contains(
            box(piece.lon, piece.lat, piece.lon, piece.lat)
        )


def test_gap_at_the_town_edge_is_found() -> None:
    """A strip of the town no grid covers (at its edge) is a gap."""
    grids = [QUARTERS[0], QUARTERS[1], QUARTERS[2], metres_box(500, 500, 1000, 980)]
    report = check_coverage(make_town(grids, TOWN_BOX))
    assert len(report.gaps) == 1
    assert report.gaps[0].area_m2 == pytest.approx(
        reference_area(metres_box(500, 980, 1000, 1000)), rel=1e-3
    )


def test_every_overlap_is_found_with_both_grids() -> None:
    """Grids pushed into their neighbours: each overlap names both grids and its area."""
    grids = [
        metres_box(0, 0, 520, 500),
        QUARTERS[1],
        QUARTERS[2],
        metres_box(490, 490, 1000, 1000),
    ]
    report = check_coverage(make_town(grids, TOWN_BOX))
    assert not report.gaps
    codes = grid_codes(4)
    expected = {
        (codes[0], codes[1]): metres_box(500, 0, 520, 500),
        (codes[0], codes[3]): metres_box(490, 490, 520, 500),
        (codes[1], codes[3]): metres_box(500, 490, 1000, 500),
        (codes[2], codes[3]): metres_box(490, 500, 500, 1000),
    }
    found = {tuple(sorted(p.grids)): p.area_m2 for p in report.overlaps}
    assert set(found) == {tuple(sorted(k)) for k in expected}
    for pair, geom in expected.items():
        assert found[tuple(sorted(pair))] == pytest.approx(
            reference_area(geom), rel=1e-3
        )


def test_grid_beyond_the_boundary_is_reported() -> None:
    """A grid that spills 20 m outside the town is reported as outside."""
    grids = [QUARTERS[0], QUARTERS[1], QUARTERS[2], metres_box(500, 500, 1020, 1000)]
    report = check_coverage(make_town(grids, TOWN_BOX))
    assert len(report.outside) == 1
    assert report.outside[0].area_m2 == pytest.approx(
        reference_area(metres_box(1000, 500, 1020, 1000)), rel=1e-3
    )


def test_without_a_boundary_enclosed_holes_are_found() -> None:
    """A region with no recorded boundary: holes enclosed by its grids are gaps."""
    hole = metres_box(200, 200, 260, 240)
    grids = [QUARTERS[0].difference(hole), *QUARTERS[1:]]
    report = check_coverage(make_town(grids, None))
    assert len(report.gaps) == 1 and report.notes
    assert report.gaps[0].area_m2 == pytest.approx(reference_area(hole), rel=1e-3)


def test_centimetre_seams_are_not_gaps() -> None:
    """A 1 cm seam between neighbours drawn independently is below the width tolerance."""
    grids = [metres_box(0, 0, 499.99, 1000), metres_box(500, 0, 1000, 1000)]
    report = check_coverage(make_town(grids, TOWN_BOX))
    assert report.ok, report.gaps


def test_command_and_api_report_the_same(django_user_model: type[User]) -> None:
    """The command fails on a bad town; the API returns the same figures."""
    hole = metres_box(100, 100, 150, 150)
    make_town([QUARTERS[0].difference(hole), *QUARTERS[1:]], TOWN_BOX)
    with pytest.raises(CommandError):
        call_command("check_coverage", TOWN)
    root = django_user_model.objects.create_superuser("cov-root", password="x")
    client = APIClient()
    client.force_authenticate(root)
    body = client.get(f"/api/v1/regions/{TOWN}/coverage/").json()
    assert body["ok"] is False and len(body["gaps"]) == 1
    assert body["gaps"][0]["area_m2"] == pytest.approx(reference_area(hole), rel=1e-3)
    assert body["gaps"][0]["geometry"]["type"] == "Polygon"
