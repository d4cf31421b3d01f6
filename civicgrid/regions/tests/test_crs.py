"""WGS-84 / GCJ-02 / BD-09 conversion checked against published reference points.

Every expected value below is copied from a published source named in the comment
next to it (test suites and documentation of independent implementations, and
answers of the Amap and Baidu conversion web services recorded in such suites);
none is computed by this project's code. Distances are geodesic metres on the
WGS-84 ellipsoid.
"""

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon

from civicgrid.regions import crs
from civicgrid.regions.crs import CRS

GEOD = Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


# (WGS-84 lon, lat), (GCJ-02 lon, lat), tolerance in metres, source.
WGS_GCJ = [
    # googollee/eviltransform python/test.py, TESTS "shanghai"; that suite asserts
    # wgs2gcj to 6 decimals (about 0.1 m) and gcj2wgs_exact to < 0.5 m.
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597), 0.1),
    # googollee/eviltransform python/test.py, TESTS "shenzhen"
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766), 0.1),
    # googollee/eviltransform python/test.py, TESTS "beijing"
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069), 0.1),
    # wandergis/coordtransform test/app.js: wgs84togcj02(116.404, 39.915)
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164), 0.1),
    # hujiulong/gcoord test/unit/crs/WGS84.spec.ts: WGS84.to.GCJ02([123, 45])
    ((123.0, 45.0), (123.00607541, 45.00197815), 0.1),
    # madlogos/asesgeo tests/testthat/test_conv_coord.R, "convCoord without api"
    ((116.42079784, 39.90105589), (116.42702991, 39.90245219), 0.1),
    # madlogos/asesgeo tests/testthat/test_conv_coord.R: the answer of Amap's web
    # service (restapi.amap.com/v3/assistant/coordinate/convert) for Beijing railway
    # station. The service's own output carries sub-metre noise, hence 1 m.
    ((116.42079, 39.90105), (116.427020941841, 39.902445203994), 1.0),
    # madlogos/asesgeo tests/testthat/test_conv_coord.R: the answer of Baidu's
    # geoconv web service (from WGS-84 to GCJ-02) for the same point, 1 m as above.
    ((116.42079, 39.90105), (116.42702745, 39.90245063), 1.0),
]

# GCJ-02 → WGS-84 results of other implementations' inverses, as (WGS-84 result,
# GCJ-02 input, tolerance).
GCJ_TO_WGS = [
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.ts: GCJ02.to.WGS84([123, 45]),
    # asserted there to 5 decimals (about 0.5 m).
    ((122.99395597, 44.99804071), (123.0, 45.0), 0.5),
]

# (WGS-84 lon, lat), (BD-09 lon, lat), tolerance in metres, source.
WGS_BD = [
    # madlogos/asesgeo tests/testthat/test_conv_coord.R, "convCoord without api":
    # WGS (39.90105589, 116.42079784) → BD (39.90850546, 116.43350894).
    ((116.42079784, 39.90105589), (116.43350894, 39.90850546), 0.1),
    # caijun/geoChina, documentation of conv() (rdrr.io/github/caijun/geoChina/man/
    # conv.html): Beijing railway station, WGS-84 (39.90105, 116.42079) and BD-09
    # (39.90851, 116.43351), whose results "are the same" as Baidu's web service.
    # Both ends are rounded to 1e-5° (up to 0.7 m each), hence 2 m.
    ((116.42079, 39.90105), (116.43351, 39.90851), 2.0),
]

# As (WGS-84 result, BD-09 input, tolerance):
BD_TO_WGS = [
    # hujiulong/gcoord test/unit/crs/BD09.spec.ts: BD09.to.WGS84([123, 45]),
    # asserted there to 5 decimals (about 0.5 m).
    ((122.98762210, 44.99171540), (123.0, 45.0), 0.5),
]
WGS_TO_BD = [
    # hujiulong/gcoord test/unit/crs/WGS84.spec.ts: WGS84.to.BD09([123, 45])
    ((123.0, 45.0), (123.0124491, 45.0083293), 0.1),
]

# Points far outside China. GCJ-02 applies no offset there (eviltransform's
# outOfChina returns the input as-is; gcoord's tests "not in China" expect the input
# back), and Baidu documents that its maps use plain WGS-84 outside China ("在海外
# 地区,统一使用WGS84坐标", lbs.baidu.com/faq/api?title=androidsdk/guide/tool/
# coordinate), so no BD-09 offset applies either.
OUTSIDE_CHINA = [
    (2.3522, 48.8566),  # Paris
    (-74.006, 40.7128),  # New York
    (151.2093, -33.8688),  # Sydney
    (-43.1729, -22.9068),  # Rio de Janeiro
]

INVERSE_OUTSIDE_CHINA_BUG = (
    "outside China, to_wgs84 (gcj02, bd09) and from_wgs84 (bd09) move points by "
    "0.3-4 km: prcoords' *_wgs_bored iterate with check_china=False, and "
    "prcoords applies the BD-09 offset everywhere"
)


@pytest.mark.parametrize(("wgs", "gcj", "tol"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_published_points(
    wgs: tuple[float, float], gcj: tuple[float, float], tol: float
) -> None:
    """from_wgs84(..., "gcj02") lands within the stated tolerance of the published
    GCJ-02 point."""
    assert metres(crs.from_wgs84(*wgs, CRS.GCJ02), gcj) < tol


@pytest.mark.parametrize(
    ("wgs", "gcj", "tol"),
    [(w, g, 0.05 if t < 1 else t) for w, g, t in WGS_GCJ] + GCJ_TO_WGS,
)
def test_gcj02_to_wgs84_inverts_published_points(
    wgs: tuple[float, float], gcj: tuple[float, float], tol: float
) -> None:
    """to_wgs84(..., "gcj02") is the precise inverse: from a published GCJ-02 point
    it returns the published WGS-84 point within 5 cm (eviltransform only demands
    < 0.5 m of its gcj2wgs_exact), or within the source's own precision."""
    assert metres(crs.to_wgs84(*gcj, "gcj02"), wgs) < tol


@pytest.mark.parametrize(("wgs", "bd", "tol"), WGS_BD + WGS_TO_BD)
def test_wgs84_to_bd09_matches_published_points(
    wgs: tuple[float, float], bd: tuple[float, float], tol: float
) -> None:
    """from_wgs84(..., "bd09") lands within the stated tolerance of the published
    BD-09 point."""
    assert metres(crs.from_wgs84(*wgs, CRS.BD09), bd) < tol


@pytest.mark.parametrize(("wgs", "bd", "tol"), WGS_BD + BD_TO_WGS)
def test_bd09_to_wgs84_matches_published_points(
    wgs: tuple[float, float], bd: tuple[float, float], tol: float
) -> None:
    """to_wgs84(..., "bd09") returns the published WGS-84 point of a published BD-09
    point within the stated tolerance."""
    assert metres(crs.to_wgs84(*bd, CRS.BD09), wgs) < tol


def test_wgs84_is_the_identity() -> None:
    """The WGS-84 "conversion" returns the very same coordinates, by enum or name."""
    p = (118.05, 36.81)
    assert crs.to_wgs84(*p, CRS.WGS84) == p
    assert crs.from_wgs84(*p, "wgs84") == p


@pytest.mark.parametrize("kind", ["gcj02", "bd09"])
def test_crs_given_by_name_or_enum_agree(kind: str) -> None:
    """A CRS passed by its name gives the same result as the enum member, and the
    offset in Shandong is real (hundreds of metres)."""
    p = (118.05, 36.81)
    assert crs.from_wgs84(*p, kind) == crs.from_wgs84(*p, CRS(kind))
    assert crs.to_wgs84(*p, kind) == crs.to_wgs84(*p, CRS(kind))
    assert metres(crs.from_wgs84(*p, kind), p) > 100


def test_unknown_crs_is_refused() -> None:
    """A CRS name other than wgs84/gcj02/bd09 raises ValueError."""
    with pytest.raises(ValueError):
        crs.to_wgs84(118.0, 36.0, "epsg:4326")
    with pytest.raises(ValueError):
        crs.geometry_to_wgs84(Polygon([(0, 0), (1, 0), (1, 1)]), "bd-09")


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_gcj02_from_wgs84_outside_china_is_unchanged(
    point: tuple[float, float],
) -> None:
    """WGS-84 → GCJ-02 leaves a point outside China exactly as it is."""
    assert crs.from_wgs84(*point, CRS.GCJ02) == point


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_gcj02_to_wgs84_outside_china_is_unchanged(point: tuple[float, float]) -> None:
    """GCJ-02 → WGS-84 leaves a point outside China as it is (within 1 cm): there
    is no offset to remove (gcoord: GCJ02.to.WGS84 "not in China")."""
    assert metres(crs.to_wgs84(*point, CRS.GCJ02), point) < 0.01


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
@pytest.mark.parametrize("direction", ["to", "from"])
def test_bd09_outside_china_is_unchanged(
    point: tuple[float, float], direction: str
) -> None:
    """Baidu uses WGS-84 outside China, so BD-09 ↔ WGS-84 leaves such a point as it
    is (within 1 cm), in both directions."""
    fn = crs.to_wgs84 if direction == "to" else crs.from_wgs84
    assert metres(fn(*point, CRS.BD09), point) < 0.01


def test_geometry_to_wgs84_converts_every_vertex_to_published_points() -> None:
    """A polygon whose vertices are eviltransform's published GCJ-02 points comes
    back with every vertex at the published WGS-84 point (within 5 cm)."""
    published = WGS_GCJ[:3]  # Shanghai, Shenzhen, Beijing
    ring = [gcj for _, gcj, _ in published]
    out = crs.geometry_to_wgs84(Polygon(ring), "gcj02")
    coords = shapely.get_coordinates(out)
    assert len(coords) == 4  # three vertices and the closing one
    for (wgs, _, _), got in zip(published, coords[:3], strict=True):
        assert metres(tuple(got), wgs) < 0.05
    assert tuple(coords[0]) == tuple(coords[-1])


@pytest.mark.parametrize("kind", [CRS.GCJ02, CRS.BD09])
def test_geometry_to_wgs84_converts_holes_and_parts(kind: CRS) -> None:
    """Every vertex of every ring and part (shell, hole, second polygon) is
    converted, and the structure is kept: geometry_to_wgs84 gives each vertex the
    same result as to_wgs84 of that vertex, and geometry_from_wgs84 takes it back
    within 5 cm."""
    shell = [(118.00, 36.70), (118.02, 36.70), (118.02, 36.72), (118.00, 36.72)]
    hole = [(118.005, 36.705), (118.010, 36.705), (118.010, 36.710)]
    other = Polygon([(118.05, 36.75), (118.06, 36.75), (118.06, 36.76)])
    geom = MultiPolygon([Polygon(shell, [hole]), other])

    out = crs.geometry_to_wgs84(geom, kind)
    assert isinstance(out, MultiPolygon)
    assert len(out.geoms) == 2
    assert len(out.geoms[0].interiors) == 1
    before = shapely.get_coordinates(geom)
    after = shapely.get_coordinates(out)
    assert len(before) == len(after)
    for (x, y), got in zip(before, after, strict=True):
        assert tuple(got) == pytest.approx(crs.to_wgs84(x, y, kind), abs=1e-12)
        assert metres((x, y), tuple(got)) > 100  # really moved: the offset is large

    back = shapely.get_coordinates(crs.geometry_from_wgs84(out, kind))
    for orig, got in zip(before, back, strict=True):
        assert metres(tuple(orig), tuple(got)) < 0.05


def test_geometry_in_wgs84_is_returned_as_is() -> None:
    """geometry_to_wgs84 / geometry_from_wgs84 with WGS-84 return the very geometry."""
    geom = Polygon([(118.0, 36.7), (118.1, 36.7), (118.1, 36.8)])
    assert crs.geometry_to_wgs84(geom, "wgs84") is geom
    assert crs.geometry_from_wgs84(geom, CRS.WGS84) is geom


SHANDONG_LON = st.floats(min_value=114.8, max_value=122.7, allow_nan=False)
SHANDONG_LAT = st.floats(min_value=34.4, max_value=38.4, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    lon=SHANDONG_LON,
    lat=SHANDONG_LAT,
    kind=st.sampled_from([CRS.GCJ02, CRS.BD09]),
)
def test_round_trip_inside_shandong(lon: float, lat: float, kind: CRS) -> None:
    """For any point of Shandong, to_wgs84(from_wgs84(p)) and
    from_wgs84(to_wgs84(p)) return p within 5 cm."""
    p = (lon, lat)
    assert metres(crs.to_wgs84(*crs.from_wgs84(*p, kind), kind), p) < 0.05
    assert metres(crs.from_wgs84(*crs.to_wgs84(*p, kind), kind), p) < 0.05
