"""The session's data: the real tree and the demo city's grids."""

import pytest

from civicgrid.regions.coverage import check_coverage
from civicgrid.regions.models import Grid, Region

pytestmark = pytest.mark.django_db


def test_shandong_tree_is_complete() -> None:
    """Every level of the 2023 code list is there, with parents."""
    counts = {
        lv: Region.objects.filter(level=lv).count()
        for lv in ["province", "city", "county", "town", "village"]
    }
    assert counts == {
        "province": 1,
        "city": 16,
        "county": 151,
        "town": 1853,
        "village": 62074,
    }
    assert (
        not Region.objects.exclude(level="province")
        .filter(parent__isnull=True)
        .exists()
    )


def test_demo_city_passes_coverage() -> None:
    """淄博市's generated grids cover the city with no gap and no overlap."""
    report = check_coverage(Region.objects.get(region_code="3703"))
    assert report.grid_count == Grid.objects.filter(city_code="3703").count() > 2900
    assert report.ok, (report.gaps[:3], report.overlaps[:3])
