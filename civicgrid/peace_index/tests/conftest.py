"""A small hand-computable region tree under the fake province 99, and helpers."""

from collections.abc import Callable

import pytest

from civicgrid.peace_index import catalogue
from civicgrid.peace_index.imports import CountRow, counts_replace
from civicgrid.peace_index.models import CatalogueVersion, IndexKind
from civicgrid.regions.models import Region

CITY = "9901"
# prefix: (name, level, population, class); the city and towns sum their children.
TREE = {
    "99": ("测试省", "province", None, ""),
    "9901": ("测试市", "city", None, "mixed"),
    "990101": ("甲区", "county", None, "urban"),
    "990102": ("乙县", "county", None, "rural"),
    "990101001": ("甲街道", "town", None, "urban"),
    "990102001": ("乙镇", "town", None, "rural"),
    "990101001001": ("小村", "village", 300, "urban"),
    "990101001002": ("中村", "village", 2700, "urban"),
    "990101001003": ("大社区", "village", 7000, "urban"),
    "990102001001": ("东村", "village", 5000, "rural"),
    "990102001002": ("西村", "village", 5000, "rural"),
}
MONTH = "2026-03"


def twelve(prefix: str) -> str:
    return prefix.ljust(12, "0")


@pytest.fixture
def tree(db) -> dict[str, Region]:  # type: ignore[no-untyped-def]
    """The fake province 99 with one city of two counties, two towns, five villages."""
    out: dict[str, Region] = {}
    for prefix, (name, level, population, cls) in TREE.items():
        parent = out.get(prefix[: {4: 2, 6: 4, 9: 6, 12: 9}.get(len(prefix), 0)])
        out[prefix] = Region.objects.create(
            code=twelve(prefix),
            name=name,
            level=level,
            parent=parent,
            region_code=prefix,
            city_code=prefix[:4] if len(prefix) >= 4 else "",
            population=population,
            area_class=cls,
        )
    return out


@pytest.fixture
def peace_catalogue(db) -> CatalogueVersion:  # type: ignore[no-untyped-def]
    return catalogue.catalogue_install_default(actor=None, kind=IndexKind.PEACE)


@pytest.fixture
def put_counts(tree, peace_catalogue) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """put_counts("2026-03", {"990101001001": 3, ...}, item="C01"); another index
    with kind=IndexKind.STABILITY (its catalogue must be installed)."""

    def put(
        month: str,
        counts: dict[str, int],
        item: str = "C01",
        kind: str = IndexKind.PEACE,
    ) -> None:
        rows = [
            CountRow(0, code, code[:4], month, item, n) for code, n in counts.items()
        ]
        counts_replace(
            actor=None,
            kind=kind,
            rows=rows,
            file_name="test",
            source=f"test-{item}",
            scope=[""],
        )

    return put


# Month 2026-03: 26 cases of C01 (weight 5) in 甲街道's villages, 10 in 乙镇's.
MARCH = {
    "990101001001": 3,
    "990101001002": 9,
    "990101001003": 14,
    "990102001001": 5,
    "990102001002": 5,
}


def publish(month: str, kind: str = IndexKind.PEACE, city: str = CITY) -> None:
    """Compute, review and publish a month of the fixture's city."""
    from civicgrid.peace_index.services import month_compute, run_publish, run_review

    run = month_compute(actor=None, kind=kind, city_code=city, month=month)
    run_publish(actor=None, run=run_review(actor=None, run=run))


def warn_everyone(kind: str = IndexKind.PEACE) -> CatalogueVersion:
    """Activate a copy of the active version that warns every area (threshold 101)."""
    active = catalogue.active_version(kind)
    assert active is not None
    version = catalogue.catalogue_version_copy(actor=None, version=active)
    catalogue.catalogue_version_update_rules(
        actor=None, version=version, warn_security_below=101.0
    )
    catalogue.catalogue_version_activate(actor=None, version=version)
    return version
