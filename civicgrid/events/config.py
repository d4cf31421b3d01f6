"""Per-process copies of the configuration every report reads: the active matters
(routing, time limits) and the active workflow definitions.

A database trigger renews a random token in ``ConfigVersion`` on any write to the
matter or workflow-definition table (migration 0004), whatever the writer: ORM,
queryset update, admin, raw SQL. A report reads those tokens together with the grid
index versions in one query (``read_versions``) and reloads its copy when a token
differs, so a change made through any process is used from the next report on.
"""

import copy
from dataclasses import dataclass, field

from django.db import connection

from civicgrid.events.models import Matter, WorkflowDefinition

# The tables whose token must be present for a copy to be kept (see the migration).
TABLES = ("events_matter", "events_workflowdefinition")

_VERSIONS_SQL = (
    "SELECT 'grid', city_code, version FROM regions_gridindexversion "
    "UNION ALL "
    "SELECT 'config', \"table\", token FROM events_configversion"
)


@dataclass(frozen=True)
class Versions:
    grids: dict[str, str]  # for regions.locate.GridLocator.refresh
    config: tuple[tuple[str, str], ...] | None  # None: not tracked, keep no copy


def read_versions() -> Versions:
    """The grid index versions and the configuration tokens, in one query."""
    grids: dict[str, str] = {}
    tokens: dict[str, str] = {}
    with connection.cursor() as cur:
        cur.execute(_VERSIONS_SQL)
        for kind, key, value in cur.fetchall():
            (grids if kind == "grid" else tokens)[key] = value
    tracked = all(t in tokens for t in TABLES)
    return Versions(grids, tuple(sorted(tokens.items())) if tracked else None)


def token_of(table: str) -> str | None:
    """The current token of one table (None when no trigger keeps one)."""
    with connection.cursor() as cur:
        cur.execute(
            'SELECT token FROM events_configversion WHERE "table" = %s', [table]
        )
        row = cur.fetchone()
    return str(row[0]) if row else None


def keywords_of(matter: Matter) -> tuple[str, ...]:
    """A matter's routing keywords (comma-separated, full-width commas too)."""
    words = (matter.keywords or "").replace("，", ",").split(",")
    return tuple(w for w in (w.strip() for w in words) if w)


@dataclass(frozen=True)
class Config:
    token: tuple[tuple[str, str], ...] | None
    matters: dict[int, Matter]
    # (pk, code, name, keywords) of every active matter: what routing scores
    routing: tuple[tuple[int, str, str, tuple[str, ...]], ...]
    workflows: tuple[WorkflowDefinition, ...]  # active ones, definition deferred
    _by_city: dict[str, WorkflowDefinition | None] = field(default_factory=dict)

    def matter(self, pk: int) -> Matter:
        """A copy: callers attach it to their event and may change it."""
        return copy.copy(self.matters[pk])

    def workflow_for_city(self, city_code: str) -> WorkflowDefinition | None:
        """The city's active definition (highest version), else the default one."""
        if city_code not in self._by_city:
            candidates = [w for w in self.workflows if w.city_code in (city_code, "")]
            candidates.sort(key=lambda w: (w.city_code, w.version), reverse=True)
            self._by_city[city_code] = candidates[0] if candidates else None
        wf = self._by_city[city_code]
        return copy.copy(wf) if wf is not None else None


_current: Config | None = None


def _load(token: tuple[tuple[str, str], ...] | None) -> Config:
    matters = {m.pk: m for m in Matter.objects.filter(active=True)}
    return Config(
        token=token,
        matters=matters,
        routing=tuple((m.pk, m.code, m.name, keywords_of(m)) for m in matters.values()),
        # parsed once per process by services.definition_by_id
        workflows=tuple(
            WorkflowDefinition.objects.filter(active=True).defer("definition")
        ),
    )


def current(versions: Versions | None = None) -> Config:
    """The configuration as of ``versions`` (read now when not given): the copy
    kept in this process when its tokens are current, else a fresh one. The tokens
    are read before the tables, so a copy is never labelled newer than it is."""
    global _current
    if versions is None:
        versions = read_versions()
    kept = _current
    if (
        versions.config is not None
        and kept is not None
        and kept.token == versions.config
    ):
        return kept
    fresh = _load(versions.config)
    if versions.config is not None:
        _current = fresh
    return fresh
