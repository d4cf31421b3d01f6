"""Import of grid polygons from GeoJSON (regions.grid_import), through the service,
the ``import_grids`` management command and POST /api/v1/grids/import/.

The grids are small squares in 新华社区居委会 (370303001001) of 张店区, 淄博市, a real
village of the session's division tree; codes 370303001001901… are free (the demo
grids of that village are …001 to …003)."""

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from pyproj import Geod
from rest_framework.test import APIClient
from shapely.geometry import MultiPolygon, Polygon

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role, User
from civicgrid.core.models import AuditRecord
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.regions import crs
from civicgrid.regions.crs import CRS
from civicgrid.regions.grid_import import import_grids
from civicgrid.regions.models import Grid, GridIndexVersion

pytestmark = pytest.mark.django_db

GEOD = Geod(ellps="WGS84")
VILLAGE = "370303001001"  # 新华社区居委会
CODE = VILLAGE + "901"
LON0, LAT0 = 117.9925, 36.7375  # inside the village's demo grid 370303001001001
SIDE = 0.001  # degrees: about 89 m × 111 m
URL = "/api/v1/grids/import/"

Ring = list[tuple[float, float]]


def square(lon: float = LON0, lat: float = LAT0, side: float = SIDE) -> Ring:
    """A closed, counter-clockwise WGS-84 square with its south-west corner at
    (lon, lat)."""
    return [
        (lon, lat),
        (lon + side, lat),
        (lon + side, lat + side),
        (lon, lat + side),
        (lon, lat),
    ]


def feature(
    code: str | None = CODE,
    ring: Ring | None = None,
    kind: CRS = CRS.WGS84,
    **props: Any,
) -> dict[str, Any]:
    """A Polygon feature; ``ring`` (WGS-84) is converted to ``kind`` vertex by
    vertex, as a map exported from Amap or Baidu would hold it."""
    ring = square() if ring is None else ring
    coords = [list(crs.from_wgs84(x, y, kind)) for x, y in ring]
    if code is not None:
        props["code"] = code
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }


def collection(*features: Any) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", "features": list(features)}
    ).encode()


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def geodesic_area(ring: Ring) -> float:
    return abs(GEOD.geometry_area_perimeter(Polygon(ring))[0])


def assert_same_ring(geom: Any, ring: Ring, tol_m: float = 0.5) -> None:
    """Every vertex of ``geom`` lies within tol_m of a vertex of ``ring`` and every
    vertex of ``ring`` within tol_m of one of ``geom`` (start and orientation of the
    stored ring may differ)."""
    got = [tuple(c) for c in shapely.get_coordinates(geom)]
    assert len(set(got)) == len(set(ring))
    for p in got:
        assert min(metres(p, q) for q in ring) < tol_m, p
    for q in ring:
        assert min(metres(p, q) for p in got) < tol_m, q


def rejected(data: bytes | str, **kwargs: Any) -> ImportReport:
    """Run an import that must be rejected; return its report."""
    kwargs.setdefault("crs", CRS.WGS84)
    with pytest.raises(ImportRejected) as exc:
        import_grids(data, **kwargs)
    return exc.value.report


def index_version() -> str | None:
    v = GridIndexVersion.objects.filter(city_code="3703").first()
    return v.version if v else None


# --- good files ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(CRS))
def test_valid_collection_is_imported_in_each_crs(kind: CRS) -> None:
    """A square given in WGS-84, GCJ-02 or BD-09 is stored as the original WGS-84
    square (every corner within 0.5 m), attached to its village with its name,
    figures, data source and feature id; its area is the geodesic area of the
    square (pyproj, relative error < 1e-3); the city's grid index version changes
    and the import is audited with its CRS."""
    before_count = Grid.objects.count()
    before_version = index_version()
    ring = square()
    data = collection(
        {
            **feature(kind=kind, name="新华一号网格", households="120", population=300),
            "id": "amap-7",
        }
    )

    report = import_grids(data, crs=kind, file="xinhua.geojson")

    assert report.as_dict() == {
        "created": 1,
        "updated": 0,
        "skipped": 0,
        "errors": [],
        "notes": [],
    }
    assert Grid.objects.count() == before_count + 1
    grid = Grid.objects.select_related("village").get(code=CODE)
    assert_same_ring(grid.geometry, ring)
    assert isinstance(grid.geometry, Polygon) and grid.geometry.is_valid
    assert grid.area_m2 == pytest.approx(geodesic_area(ring), rel=1e-3)
    assert grid.village.code == VILLAGE
    assert (grid.region_code, grid.city_code) == (CODE, "3703")
    assert (grid.name, grid.households, grid.population) == ("新华一号网格", 120, 300)
    assert (grid.data_source, grid.origin_id) == ("geojson", "amap-7")
    assert index_version() not in (None, before_version)
    audit = AuditRecord.objects.filter(action="grid.import").latest("pk")
    assert audit.changes["crs"] == kind.value
    assert audit.changes["file"] == "xinhua.geojson"
    assert audit.changes["codes"] == [CODE]
    assert audit.region_code == CODE


def test_default_name_and_empty_figures() -> None:
    """Without a name the grid is called after its village and the last three
    digits of its code; missing households/population stay empty."""
    import_grids(collection(feature()), crs="wgs84")
    grid = Grid.objects.get(code=CODE)
    assert grid.name == "新华社区居委会901网格"
    assert (grid.households, grid.population) == (None, None)


def test_multipolygon_is_imported() -> None:
    """A MultiPolygon of two squares is stored with both parts and the sum of their
    areas."""
    a, b = square(), square(LON0 + 0.002)
    data = collection(
        {
            "type": "Feature",
            "properties": {"code": CODE},
            "geometry": {"type": "MultiPolygon", "coordinates": [[a], [b]]},
        }
    )
    import_grids(data, crs="wgs84")
    grid = Grid.objects.get(code=CODE)
    assert isinstance(grid.geometry, MultiPolygon) and len(grid.geometry.geoms) == 2
    assert grid.area_m2 == pytest.approx(geodesic_area(a) + geodesic_area(b), rel=1e-3)


@pytest.mark.parametrize("side", [0.0005, 0.002, 0.01])
def test_area_matches_pyproj(side: float) -> None:
    """The stored area of squares of about 50 m, 200 m and 1 km agrees with pyproj's
    geodesic area within a relative 1e-3."""
    ring = square(side=side)
    import_grids(collection(feature(ring=ring)), crs="wgs84")
    stored = Grid.objects.get(code=CODE).area_m2
    assert stored == pytest.approx(geodesic_area(ring), rel=1e-3)


def test_bow_tie_is_repaired_with_a_note() -> None:
    """A self-intersecting bow-tie is repaired into its two triangles (half the
    square's area) and the repair is reported as a note, not an error."""
    x, y, d = LON0, LAT0, SIDE
    bow_tie = [(x, y), (x + d, y + d), (x + d, y), (x, y + d), (x, y)]
    report = import_grids(collection(feature(ring=bow_tie)), crs="wgs84")

    assert report.ok and report.created == 1
    assert len(report.notes) == 1
    note = report.notes[0]
    assert note.startswith(f"upload.geojson: feature 0 ({CODE}): repaired:")
    assert "Self-intersection" in note
    grid = Grid.objects.get(code=CODE)
    assert grid.geometry.is_valid
    assert isinstance(grid.geometry, MultiPolygon) and len(grid.geometry.geoms) == 2
    assert grid.area_m2 == pytest.approx(geodesic_area(square()) / 2, rel=1e-3)


def test_reimport_updates_an_existing_grid() -> None:
    """Importing a code again replaces its geometry, area, name and figures: one
    update, no creation, the same number of grids, a new index version."""
    import_grids(collection(feature(name="旧名", households=10)), crs="wgs84")
    count = Grid.objects.count()
    version = index_version()
    moved = square(LON0 + 0.0005, LAT0 + 0.0005, side=0.002)

    report = import_grids(
        collection(feature(ring=moved, kind=CRS.GCJ02, name="新名", households=20)),
        crs="gcj02",
    )

    assert (report.created, report.updated) == (0, 1)
    assert Grid.objects.count() == count
    grid = Grid.objects.get(code=CODE)
    assert_same_ring(grid.geometry, moved)
    assert grid.area_m2 == pytest.approx(geodesic_area(moved), rel=1e-3)
    assert (grid.name, grid.households) == ("新名", 20)
    assert index_version() != version


def test_reimport_updates_a_demo_grid() -> None:
    """An existing demo grid (370303001001001) is updated in place by an import."""
    code = VILLAGE + "001"
    old = Grid.objects.get(code=code)
    report = import_grids(collection(feature(code=code, name="重划网格")), crs="wgs84")
    assert (report.created, report.updated) == (0, 1)
    grid = Grid.objects.get(code=code)
    assert grid.pk == old.pk
    assert grid.name == "重划网格"
    assert_same_ring(grid.geometry, square())


# --- bad files and features ----------------------------------------------------------

POINT = {"type": "Point", "coordinates": [LON0, LAT0]}


def with_geometry(geometry: Any, code: str = VILLAGE + "902") -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code}, "geometry": geometry}


def polygon(*coords: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(coords)]}


GOOD = feature()
# name: (file content, where the error is reported, a fragment of the reason)
BAD_FILES: dict[str, tuple[bytes, int | str, str]] = {
    "not JSON": (b'{"type": "FeatureCollection", ', 0, "not valid JSON"),
    "not UTF-8": (b"\xff\xfe\x00", 0, "not valid JSON"),
    "a bare Feature": (json.dumps(GOOD).encode(), 0, "not a GeoJSON FeatureCollection"),
    "a list": (b"[]", 0, "not a GeoJSON FeatureCollection"),
    "features not a list": (
        b'{"type": "FeatureCollection", "features": {}}',
        0,
        "not a GeoJSON FeatureCollection",
    ),
    "missing code": (
        collection(GOOD, feature(code=None)),
        "feature 1",
        "code '' must be 15 digits",
    ),
    "code not 15 digits": (
        collection(GOOD, feature(code=VILLAGE)),
        f"feature 1 ({VILLAGE})",
        "must be 15 digits: the village code and 3 more",
    ),
    "code with a letter": (
        collection(GOOD, feature(code=VILLAGE + "9A1")),
        f"feature 1 ({VILLAGE}9A1)",
        "must be 15 digits",
    ),
    "unknown village": (
        collection(GOOD, feature(code="370303001999901")),
        "feature 1 (370303001999901)",
        "unknown village/community code 370303001999",
    ),
    "a town's code": (
        collection(GOOD, feature(code="370303001000901")),
        "feature 1 (370303001000901)",
        "unknown village/community code 370303001000",
    ),
    "duplicate code": (
        collection(GOOD, feature(ring=square(LON0 + 0.002))),
        f"feature 1 ({CODE})",
        f"duplicate code {CODE} (also feature 0)",
    ),
    "missing geometry": (
        collection(GOOD, with_geometry(None)),
        f"feature 1 ({VILLAGE}902)",
        "feature has no geometry",
    ),
    "a Point": (
        collection(GOOD, with_geometry(POINT)),
        f"feature 1 ({VILLAGE}902)",
        "geometry must be a Polygon or MultiPolygon, not Point",
    ),
    "an unrepairable polygon": (
        collection(
            GOOD,
            with_geometry(polygon([LON0, LAT0], [LON0 + SIDE, LAT0], [LON0, LAT0])),
        ),
        f"feature 1 ({VILLAGE}902)",
        "invalid polygon that cannot be repaired",
    ),
    "an empty polygon": (
        collection(GOOD, with_geometry({"type": "Polygon", "coordinates": []})),
        f"feature 1 ({VILLAGE}902)",
        "geometry is empty",
    ),
    "unreadable coordinates": (
        collection(GOOD, with_geometry(polygon(["x", LAT0], [1, 2], [3, 4]))),
        f"feature 1 ({VILLAGE}902)",
        "unreadable geometry",
    ),
    "negative households": (
        collection(GOOD, feature(code=VILLAGE + "902", households=-1)),
        f"feature 1 ({VILLAGE}902)",
        "households -1 is negative",
    ),
    "population not a number": (
        collection(GOOD, feature(code=VILLAGE + "902", population="many")),
        f"feature 1 ({VILLAGE}902)",
        "population 'many' is not a whole number",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_input_is_reported_and_nothing_written(case: str) -> None:
    """A bad file, or one bad feature next to a good one, is reported with the file
    name, the feature index and code (0 for the file as a whole) and the reason;
    the import is rejected and no grid is written, not even the good one."""
    data, where, fragment = BAD_FILES[case]
    count = Grid.objects.count()
    version = index_version()

    report = rejected(data, file="bad.geojson")

    assert len(report.errors) == 1, report.errors
    err = report.errors[0]
    assert (err.file, err.line) == ("bad.geojson", where)
    assert fragment in err.reason
    assert Grid.objects.count() == count
    assert not Grid.objects.filter(code=CODE).exists()
    assert index_version() == version


def test_every_bad_feature_is_reported_at_once() -> None:
    """All bad features of a file are reported, each by its index, and nothing is
    written."""
    features = [
        GOOD,
        feature(code=None),
        feature(code="370303001999901"),
        with_geometry(None, VILLAGE + "903"),
        with_geometry(POINT, VILLAGE + "904"),
        feature(),  # duplicate of feature 0
        feature(code=VILLAGE + "905"),  # good
    ]
    count = Grid.objects.count()
    report = rejected(collection(*features))
    assert [e.line for e in report.errors] == [
        "feature 1",
        "feature 2 (370303001999901)",
        f"feature 3 ({VILLAGE}903)",
        f"feature 4 ({VILLAGE}904)",
        f"feature 5 ({CODE})",
    ]
    assert Grid.objects.count() == count


def test_partial_writes_only_the_good_features() -> None:
    """With partial=True the good features are written, the bad ones are reported
    and counted as skipped."""
    features = [
        GOOD,
        with_geometry(None, VILLAGE + "902"),
        with_geometry(POINT, VILLAGE + "903"),
        feature(code=VILLAGE + "904", ring=square(LON0 + 0.002)),
    ]
    count = Grid.objects.count()

    report = import_grids(collection(*features), crs="wgs84", partial=True)

    assert (report.created, report.updated, report.skipped) == (2, 0, 2)
    assert [e.line for e in report.errors] == [
        f"feature 1 ({VILLAGE}902)",
        f"feature 2 ({VILLAGE}903)",
    ]
    assert Grid.objects.count() == count + 2
    assert set(
        Grid.objects.filter(code__startswith=VILLAGE + "9").values_list(
            "code", flat=True
        )
    ) == {CODE, VILLAGE + "904"}


@pytest.mark.parametrize("scope", [["370303002"], ["3702"], []])
def test_scope_refuses_villages_outside_it(scope: list[str]) -> None:
    """A caller whose scope does not contain the village (another town, another
    city, no scope at all) is refused for that feature and nothing is written."""
    report = rejected(collection(GOOD), scope=scope)
    assert [(e.line, e.reason) for e in report.errors] == [
        (f"feature 0 ({CODE})", f"village {VILLAGE} is outside your scope")
    ]
    assert not Grid.objects.filter(code=CODE).exists()


@pytest.mark.parametrize("scope", [["370303001"], ["3703", "3702"], [""]])
def test_scope_containing_the_village_is_accepted(scope: list[str]) -> None:
    """The town, the city (among others) or the whole province may import it."""
    assert import_grids(collection(GOOD), crs="wgs84", scope=scope).created == 1


def test_unknown_crs_is_refused() -> None:
    """A CRS other than wgs84/gcj02/bd09 raises ValueError before anything else."""
    with pytest.raises(ValueError):
        import_grids(collection(GOOD), crs="cgcs2000")


# --- product bugs: the correct behaviour, failing today ------------------------------


@pytest.mark.parametrize("props", [[1, 2], "code"])
def test_properties_that_are_not_an_object_are_reported(props: Any) -> None:
    """A feature whose properties is not a JSON object is reported as a bad
    feature, not a crash."""
    bad = {"type": "Feature", "properties": props, "geometry": feature()["geometry"]}
    report = rejected(collection(GOOD, bad))
    assert [e.line for e in report.errors] == ["feature 1"]


def test_coordinates_out_of_range_are_reported() -> None:
    """A polygon with a longitude beyond 180° or latitude beyond 90° is reported."""
    ring = [(500.0, 36.0), (501.0, 36.0), (501.0, 37.0), (500.0, 37.0), (500.0, 36.0)]
    report = rejected(collection(feature(ring=ring)))
    assert [e.line for e in report.errors] == [f"feature 0 ({CODE})"]


@pytest.mark.parametrize("households", [1.5, True])
def test_households_that_are_not_whole_numbers_are_reported(households: Any) -> None:
    """Households of 1.5 or true are not a whole number and are reported."""
    rejected(collection(feature(households=households)))


def test_code_with_surrounding_spaces_is_accepted() -> None:
    """A code with surrounding spaces is read as the stripped code (which is what
    the format check and the stored grid use)."""
    import_grids(collection(feature(code=f" {CODE} ")), crs="wgs84")
    assert Grid.objects.filter(code=CODE).exists()


# --- the management command ----------------------------------------------------------


def write(tmp_path: Path, data: bytes, name: str = "grids.geojson") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_command_imports_a_good_file(tmp_path: Path) -> None:
    """``import_grids FILE --crs bd09`` imports a BD-09 file and prints the counts."""
    path = write(tmp_path, collection(feature(kind=CRS.BD09)))
    out = StringIO()
    call_command("import_grids", path, crs="bd09", stdout=out)
    assert "created 1, updated 0, skipped 0" in out.getvalue()
    assert_same_ring(Grid.objects.get(code=CODE).geometry, square())


def test_command_rejects_a_bad_file(tmp_path: Path) -> None:
    """A file with a bad feature raises CommandError, the bad feature is printed on
    stderr, and nothing is written."""
    path = write(tmp_path, collection(GOOD, with_geometry(POINT)))
    count = Grid.objects.count()
    err = StringIO()
    with pytest.raises(CommandError, match="1 bad rows; nothing was imported"):
        call_command("import_grids", path, crs="wgs84", stderr=err)
    assert f"grids.geojson:feature 1 ({VILLAGE}902): geometry must be" in err.getvalue()
    assert Grid.objects.count() == count


def test_command_rejects_a_file_that_is_not_geojson(tmp_path: Path) -> None:
    """A file that is not JSON raises CommandError."""
    path = write(tmp_path, b"code,name\n1,2\n", "grids.csv")
    with pytest.raises(CommandError):
        call_command("import_grids", path, crs="wgs84", stderr=StringIO())


def test_command_rejects_an_unknown_crs(tmp_path: Path) -> None:
    """--crs must be one of wgs84, gcj02 and bd09."""
    path = write(tmp_path, collection(GOOD))
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_grids", path, crs="utm50n")
    assert not Grid.objects.filter(code=CODE).exists()


def test_command_partial(tmp_path: Path) -> None:
    """--partial imports the good features and prints the bad ones."""
    path = write(tmp_path, collection(GOOD, with_geometry(POINT)))
    out, err = StringIO(), StringIO()
    call_command(
        "import_grids", path, crs="wgs84", partial=True, stdout=out, stderr=err
    )
    assert "created 1, updated 0, skipped 1" in out.getvalue()
    assert "Point" in err.getvalue()
    assert Grid.objects.filter(code=CODE).exists()


def test_command_reports_a_missing_file(tmp_path: Path) -> None:
    """A path that does not exist raises CommandError."""
    with pytest.raises(CommandError):
        call_command("import_grids", str(tmp_path / "nope.geojson"), crs="wgs84")


# --- the REST endpoint ---------------------------------------------------------------


@pytest.fixture
def superuser_client(db: None) -> APIClient:
    user = accounts.user_create(
        actor=None, username="root", password="Test#Passw0rd", is_superuser=True
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(
    client: APIClient, data: bytes, kind: str, partial: bool | None = None
) -> Any:
    form: dict[str, Any] = {
        "file": SimpleUploadedFile("grids.geojson", data, "application/geo+json"),
        "crs": kind,
    }
    if partial is not None:
        form["partial"] = "true" if partial else "false"
    return client.post(URL, form, format="multipart")


@pytest.mark.parametrize("kind", ["wgs84", "gcj02", "bd09"])
def test_api_imports_a_good_file(superuser_client: APIClient, kind: str) -> None:
    """A superuser's upload of a good file returns 201 with the counts, and the
    grid is stored in WGS-84; the audit record names the user."""
    data = collection(feature(kind=CRS(kind)))
    resp = upload(superuser_client, data, kind)
    assert resp.status_code == 201, resp.content
    assert resp.json() == {
        "created": 1,
        "updated": 0,
        "skipped": 0,
        "errors": [],
        "notes": [],
    }
    assert_same_ring(Grid.objects.get(code=CODE).geometry, square())
    audit = AuditRecord.objects.filter(action="grid.import").latest("pk")
    assert audit.actor is not None and audit.actor.username == "root"


def test_api_rejects_a_bad_file_with_every_error(superuser_client: APIClient) -> None:
    """A file with bad features returns 400 with each feature's file, index/code
    and reason, and nothing is written."""
    data = collection(GOOD, with_geometry(POINT), feature(code="370303001999901"))
    count = Grid.objects.count()
    resp = upload(superuser_client, data, "wgs84", partial=False)
    assert resp.status_code == 400
    body = resp.json()
    assert body["detail"]
    assert body["created"] == 0
    assert [(e["file"], e["line"]) for e in body["errors"]] == [
        ("grids.geojson", f"feature 1 ({VILLAGE}902)"),
        ("grids.geojson", "feature 2 (370303001999901)"),
    ]
    assert "not Point" in body["errors"][0]["reason"]
    assert "unknown village" in body["errors"][1]["reason"]
    assert Grid.objects.count() == count


def test_api_partial_import(superuser_client: APIClient) -> None:
    """partial=true returns 201, writes the good feature and lists the bad one."""
    data = collection(GOOD, with_geometry(POINT))
    resp = upload(superuser_client, data, "wgs84", partial=True)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["created"], body["skipped"]) == (1, 1)
    assert [e["line"] for e in body["errors"]] == [f"feature 1 ({VILLAGE}902)"]
    assert Grid.objects.filter(code=CODE).exists()


def test_api_rejects_an_unknown_crs(superuser_client: APIClient) -> None:
    """An unknown crs is a 400 naming the field; nothing is written."""
    resp = upload(superuser_client, collection(GOOD), "utm")
    assert resp.status_code == 400
    assert "crs" in resp.json()
    assert not Grid.objects.filter(code=CODE).exists()


def test_api_refuses_staff_without_the_sysadmin_role(
    make_staff: Callable[..., User],
) -> None:
    """Center staff of the village's own town may not import grids (403)."""
    client = APIClient()
    client.force_authenticate(
        make_staff("town_a", Role.CENTER_STAFF, region="370303001")
    )
    resp = upload(client, collection(GOOD), "wgs84")
    assert resp.status_code == 403
    assert not Grid.objects.filter(code=CODE).exists()


def test_api_applies_the_callers_scope(make_staff: Callable[..., User]) -> None:
    """A system administrator posted to another town gets 400 "outside your
    scope" for this village's grid; nothing is written."""
    client = APIClient()
    client.force_authenticate(make_staff("admin_b", Role.SYSADMIN, region="370303002"))
    resp = upload(client, collection(GOOD), "wgs84")
    assert resp.status_code == 400
    assert [e["reason"] for e in resp.json()["errors"]] == [
        f"village {VILLAGE} is outside your scope"
    ]
    assert not Grid.objects.filter(code=CODE).exists()
