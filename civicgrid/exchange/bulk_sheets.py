"""The one-sheet bulk workbooks of the exchange: departments, grid staff and the
disputes app's expert and mediator pool. A workbook has a row of labels, a row of
machine keys, then one row per record; an export has the same shape, so it imports
back unchanged. A row naming a record that already exists with the same values is
counted as unchanged. One naming an existing department, grid-staff person or pool
member (disputes, by name and home area) with other values updates it (audited,
through the accounts and disputes services); blank cells and a masked phone say
"unchanged" where the column says so. Nothing is written unless every row is good."""

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, StaffPost, User
from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.reports import ImportReport
from civicgrid.core.scope import covers, prefixes_q
from civicgrid.events.catalogue_sheets import aliases, norm
from civicgrid.regions.models import Grid, Region

MAX_ROWS = 20_000
GRID_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER, Role.GRID_SPECIALIST)
CREATED, UPDATED = "created", "updated"


@dataclass(frozen=True)
class Write:
    """One write of a good row, run with the importing user once every row is good:
    what it does to the row's record (created or updated) and, for an update, the
    sheet's columns that change."""

    line: int
    outcome: str
    run: Callable[[Any], Any]
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    key: str
    title: Any
    columns: tuple[tuple[str, Any], ...]  # (machine key, label)
    example: tuple[str, ...]
    # Columns whose cell is one of a list of codes: a drop-down in the template.
    choices: Mapping[str, Callable[[], list[str]]] = field(default_factory=dict)
    # Columns a workbook may lack (added later: files made before still import).
    optional: frozenset[str] = frozenset()

    @property
    def keys(self) -> list[str]:
        return [k for k, _label in self.columns]


def write_sheet(sheet: Sheet, rows: Iterable[Sequence[Any]]) -> bytes:
    """Labels, machine keys, the rows; drop-downs of codes; an example on a second
    sheet (only the first sheet is imported)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = str(sheet.title)[:31]
    ws.append([str(label) for _k, label in sheet.columns])
    ws.append(sheet.keys)
    for row in rows:
        ws.append(list(row))
    for key, codes in sheet.choices.items():
        letter = get_column_letter(sheet.keys.index(key) + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(codes()) + '"')
        dv.allow_blank = True
        ws.add_data_validation(dv)
        dv.add(f"{letter}3:{letter}{MAX_ROWS}")
    example = wb.create_sheet(_("example"))
    example.append([str(label) for _k, label in sheet.columns])
    example.append(sheet.keys)
    example.append(list(sheet.example))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number: 370303, not 370303.0
    return str(value).strip()


def read_sheet(
    content: bytes, sheet: Sheet, report: ImportReport, name: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {key: text}) of each filled row under the row of machine keys."""
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl and zipfile raise many kinds for a non-workbook
        report.error(name, 1, _("not an Excel (xlsx) workbook"))
        return
    try:
        header: list[str] | None = None
        for line, raw in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            cells = [_text(v) for v in raw]
            required = [k for k in sheet.keys if k not in sheet.optional]
            if header is None:
                if set(required) <= set(cells):
                    header = cells
                elif line > 2:
                    report.error(
                        name,
                        line,
                        _("no heading row naming the columns %(c)s")
                        % {"c": ", ".join(required)},
                    )
                    return
                continue
            if not any(cells):
                continue
            if line > MAX_ROWS:
                report.error(name, line, _("too many rows"))
                return
            at = {k: header.index(k) if k in header else len(cells) for k in sheet.keys}
            yield line, {k: cells[i] if i < len(cells) else "" for k, i in at.items()}
    finally:
        wb.close()


def _region(code: str) -> Region | None:
    if not code:
        return None
    return (
        Region.objects.filter(code=code).first()
        or Region.objects.filter(region_code=code).first()
    )


def _codes(labels: Callable[[], Iterable[tuple[str, str]]]) -> dict[str, str]:
    """Code by every spelling: the code, its English and its Chinese label."""
    return aliases(labels)


# --- departments ---------------------------------------------------------------------

DEPARTMENTS = Sheet(
    "departments",
    gettext_lazy("departments"),
    (
        ("name", gettext_lazy("department name")),
        ("kind", gettext_lazy("kind")),
        ("region", gettext_lazy("region code")),
    ),
    ("张店区城市管理局", "urban_management", "370303000000"),
    {"kind": lambda: list(Department.Kind.values)},
)


def departments_rows(scope: Sequence[str]) -> list[list[Any]]:
    qs = Department.objects.filter(prefixes_q(scope)).order_by("region_code", "name")
    return [[d.name, d.kind, d.region_id] for d in qs]


def departments_check(
    rows: Sequence[tuple[int, dict[str, str]]],
    scope: Sequence[str],
    report: ImportReport,
    name: str,
) -> list[Write]:
    kinds = _codes(lambda: ((k.value, str(k.label)) for k in Department.Kind))
    writes: list[Write] = []
    seen: dict[tuple[str, str], int] = {}
    for line, r in rows:
        region, kind = _region(r["region"]), kinds.get(norm(r["kind"]), "")
        problem, existing = None, None
        if not r["name"] or len(r["name"]) > 100:
            problem = _("a name of 1 to 100 characters is required")
        elif not kind:
            problem = _("unknown department kind %(k)s") % {"k": r["kind"]}
        elif region is None:
            problem = _("unknown region %(c)s") % {"c": r["region"]}
        elif not covers(scope, region.region_code):
            problem = _("region %(c)s is outside your scope") % {"c": r["region"]}
        elif (r["name"], region.code) in seen:
            problem = _("same department as line %(n)s") % {
                "n": seen[(r["name"], region.code)]
            }
        else:
            existing = Department.objects.filter(name=r["name"], region=region).first()
        if problem:
            report.error(name, line, problem)
            continue
        assert region is not None
        seen[(r["name"], region.code)] = line
        if existing is not None and existing.kind == kind:
            report.skipped += 1
        elif existing is not None:

            def update(actor: Any, d: Department = existing, k: str = kind) -> Any:
                return accounts.department_update(actor=actor, department=d, kind=k)

            writes.append(Write(line, UPDATED, update, ("kind",)))
        else:

            def create(
                actor: Any, n: str = r["name"], k: str = kind, g: Any = region
            ) -> Any:
                return accounts.department_create(actor=actor, name=n, kind=k, region=g)

            writes.append(Write(line, CREATED, create))
    return writes


# --- grid staff ----------------------------------------------------------------------

STAFF = Sheet(
    "staff",
    gettext_lazy("grid staff"),
    (
        ("username", gettext_lazy("username")),
        ("display_name", gettext_lazy("name")),
        ("phone", gettext_lazy("phone")),
        ("role", gettext_lazy("role")),
        ("grid", gettext_lazy("grid code")),
    ),
    ("zd_wgy_001", "王网格", "13800000000", "grid_worker", "370303001001001"),
    {"role": lambda: [str(r) for r in GRID_ROLES]},
)


def staff_rows(scope: Sequence[str]) -> list[list[Any]]:
    """Active grid posts in scope; phones masked (a bulk file leaves the system)."""
    qs = (
        StaffPost.objects.filter(prefixes_q(scope), role__in=GRID_ROLES, active=True)
        .exclude(grid=None)
        .select_related("user", "grid")
        .order_by("region_code", "user__username", "role")
    )
    return [
        [
            p.user.username,
            p.user.display_name,
            mask(p.user.phone, PersonalKind.PHONE),
            p.role,
            p.grid.code,  # type: ignore[union-attr]
        ]
        for p in qs
    ]


def _person_changes(user: User, r: Mapping[str, str]) -> dict[str, str]:
    """The name and phone a row changes. Blank cells say nothing; a masked phone is
    the export's form of the same one."""
    changes: dict[str, str] = {}
    if r["display_name"] not in ("", user.display_name):
        changes["display_name"] = r["display_name"]
    if r["phone"] not in ("", user.phone, mask(user.phone, PersonalKind.PHONE)):
        changes["phone"] = r["phone"]
    return changes


def _may_update(user: User, scope: Sequence[str]) -> str | None:
    """Why the importing user may not change this person, if they may not: a
    superuser, or someone holding a post outside the importer's regions."""
    if user.is_superuser:
        return _("%(u)s is a superuser; change it on the command line")
    posts = user.posts.filter(active=True).values_list("region_code", flat=True)
    if not all(covers(scope, code) for code in posts):
        return _(
            "%(u)s also holds posts outside your scope; change it in the back office"
        )
    return None


def staff_check(
    rows: Sequence[tuple[int, dict[str, str]]],
    scope: Sequence[str],
    report: ImportReport,
    name: str,
) -> list[Write]:
    roles = _codes(lambda: ((str(r), str(r.label)) for r in GRID_ROLES))
    writes: list[Write] = []
    seen: dict[tuple[str, str, str], int] = {}
    people: dict[str, tuple[int, dict[str, str]]] = {}
    for line, r in rows:
        role = roles.get(norm(r["role"]), "")
        grid = Grid.objects.filter(code=r["grid"]).first() if r["grid"] else None
        user = User.objects.filter(username=r["username"]).first()
        first = people.get(r["username"])
        problem = None
        if not r["username"] or len(r["username"]) > 150:
            problem = _("a username is required")
        elif len(r["display_name"]) > 60:
            problem = _("a name of up to 60 characters")
        elif not role:
            problem = _("role must be one of %(r)s") % {"r": ", ".join(GRID_ROLES)}
        elif grid is None:
            problem = _("unknown grid %(g)s") % {"g": r["grid"]}
        elif not covers(scope, grid.code):
            problem = _("%(c)s is outside your scope") % {"c": r["grid"]}
        elif (
            r["phone"]
            and not (r["phone"].isdigit() and len(r["phone"]) == 11)
            and (user is None or r["phone"] != mask(user.phone, PersonalKind.PHONE))
        ):
            problem = _("phone %(p)s is not an 11-digit mobile number") % {
                "p": r["phone"]
            }
        if problem is None and (r["username"], role, r["grid"]) in seen:
            problem = _("same post as line %(n)s") % {
                "n": seen[(r["username"], role, r["grid"])]
            }
        elif (
            problem is None
            and first
            and (
                (first[1]["display_name"], first[1]["phone"])
                != (r["display_name"], r["phone"])
            )
        ):
            problem = _("name or phone differ from line %(n)s") % {"n": first[0]}
        changes = _person_changes(user, r) if user is not None else {}
        if problem is None and user is not None and changes and first is None:
            refusal = _may_update(user, scope)
            problem = refusal % {"u": r["username"]} if refusal else None
        if problem:
            report.error(name, line, problem)
            continue
        seen[(r["username"], role, r["grid"])] = line
        people.setdefault(r["username"], (line, r))
        if user is not None and changes and first is None:
            # The person is changed once, by the first row naming them.

            def update(actor: Any, u: User = user, c: dict[str, str] = changes) -> Any:
                return accounts.user_update(
                    actor=actor,
                    user=u,
                    display_name=c.get("display_name"),
                    phone=c.get("phone"),
                )

            writes.append(Write(line, UPDATED, update, tuple(changes)))
        if (
            user is not None
            and StaffPost.objects.filter(
                user=user, role=role, grid=grid, active=True
            ).exists()
        ):
            if not (changes and first is None):
                report.skipped += 1
            continue

        def write(
            actor: Any, r: dict[str, str] = r, role: str = role, g: Any = grid
        ) -> Any:
            # A user named on several rows is created by the first of them.
            person = User.objects.filter(username=r["username"]).first()
            if person is None:
                person = accounts.user_create(
                    actor=actor,
                    username=r["username"],
                    password=None,
                    display_name=r["display_name"],
                    phone=r["phone"],
                )
            return accounts.staff_post_create(
                actor=actor, user=person, role=role, grid=g
            )

        writes.append(Write(line, CREATED, write))
    return writes
