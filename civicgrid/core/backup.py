"""Backups and restores of the whole database, with a manifest of per-table row
counts and checksums that the restore checks.

PostgreSQL: ``pg_dump --format=custom`` (the binaries of the server's major version)
from an exported snapshot, so that the dump and the manifest see the same data;
``pg_restore --single-transaction`` into an empty database. SQLite: the online
backup API of the sqlite3 module, both ways.
"""

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = 1
MOD = 2**256
# Per table: rows, and two 60-bit slices of each row's md5 summed server-side.
PG_SUMS = (
    "SELECT count(*),"
    " coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0),"
    " coalesce(sum(('x' || substr(md5(t::text), 16, 15))::bit(60)::bigint), 0)"
    " FROM {table} t"
)


class BackupError(Exception):
    pass


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


# --- checksums ----------------------------------------------------------------------


def _pg_tables(cur: Any) -> list[str]:
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "ORDER BY tablename"
    )
    return [r[0] for r in cur.fetchall()]


def _sqlite_tables(cur: Any) -> list[str]:
    cur.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [r[0] for r in cur.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_checksums(raw: Any, vendor: str) -> dict[str, dict[str, Any]]:
    """{table: {"rows": n, "checksum": hex}} of a DB-API connection. The checksum is
    order-independent (a sum of per-row digests), so physical order does not matter."""
    out: dict[str, dict[str, Any]] = {}
    cur = raw.cursor()
    try:
        if vendor == "postgresql":
            for table in _pg_tables(cur):
                # Two 60-bit slices of each row's md5, summed server-side.
                cur.execute(PG_SUMS.format(table=_quote(table)))
                n, a, b = cur.fetchone()
                out[table] = {"rows": int(n), "checksum": f"{int(a):x}.{int(b):x}"}
        elif vendor == "sqlite":
            for table in _sqlite_tables(cur):
                # quote(): each value as its SQL literal, whatever type converters
                # the connection has (Django's parses dates, a plain one does not).
                cur.execute(f"PRAGMA table_info({_quote(table)})")
                cols = ", ".join(f"quote({_quote(c[1])})" for c in cur.fetchall())
                cur.execute(f"SELECT {cols} FROM {_quote(table)}")  # noqa: S608
                n, total = 0, 0
                for row in cur:
                    digest = hashes.Hash(hashes.SM3())
                    digest.update(repr(tuple(row)).encode())
                    total = (total + int.from_bytes(digest.finalize(), "big")) % MOD
                    n += 1
                out[table] = {"rows": n, "checksum": f"{total:064x}"}
        else:
            raise BackupError(f"unsupported database: {vendor}")
    finally:
        cur.close()
    return out


def compare(
    expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]
) -> list[str]:
    """Human-readable differences; empty when equal."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        e, a = expected.get(table), actual.get(table)
        if e is None:
            problems.append(f"{table}: not in the backup")
        elif a is None:
            problems.append(f"{table}: missing after restore")
        elif e["rows"] != a["rows"]:
            problems.append(f"{table}: {e['rows']} rows expected, {a['rows']} found")
        elif e["checksum"] != a["checksum"]:
            problems.append(f"{table}: checksum differs")
    return problems


# --- PostgreSQL ---------------------------------------------------------------------


def pg_binary(name: str, raw: Any) -> str:
    """pg_dump/pg_restore of the server's major version (older clients refuse newer
    servers); CIVICGRID_PG_BIN overrides the directory."""
    configured = getattr(settings, "CIVICGRID_PG_BIN", "") or os.environ.get(
        "CIVICGRID_PG_BIN", ""
    )
    if configured:
        return str(Path(configured) / name)
    with raw.cursor() as cur:
        cur.execute("SHOW server_version_num")
        major = int(cur.fetchone()[0]) // 10000
    candidate = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found (set CIVICGRID_PG_BIN)")
    return found


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if s.get(key):
            env[var] = str(s[key])
    return env


def _pg_connection() -> Any:
    raw = connection.get_new_connection(connection.get_connection_params())
    return raw


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {proc.stderr.strip()[-2000:]}")


def _pg_backup(path: Path) -> dict[str, dict[str, Any]]:
    import psycopg

    raw = _pg_connection()
    try:
        raw.autocommit = False
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        with raw.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
        cmd = [
            pg_binary("pg_dump", raw),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot}",
            f"--file={path}",
        ]
        _run(cmd, _pg_env())
        sums = table_checksums(raw, "postgresql")
        raw.rollback()
    finally:
        raw.close()
    return sums


def _pg_is_empty(raw: Any) -> bool:
    with raw.cursor() as cur:
        return not _pg_tables(cur)


def _pg_restore(path: Path, replace: bool) -> dict[str, dict[str, Any]]:
    raw = _pg_connection()
    raw.autocommit = True
    try:
        if not replace and not _pg_is_empty(raw):
            raise BackupError(
                "the target database is not empty (use --replace to overwrite it)"
            )
        cmd = [
            pg_binary("pg_restore", raw),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            str(connection.settings_dict["NAME"]),
        ]
        if replace:
            cmd += ["--clean", "--if-exists"]
        connection.close()
        _run([*cmd, str(path)], _pg_env())
        return table_checksums(raw, "postgresql")
    finally:
        raw.close()


# --- SQLite -------------------------------------------------------------------------


def _sqlite_backup(path: Path) -> dict[str, dict[str, Any]]:
    connection.ensure_connection()
    dest = sqlite3.connect(path)
    try:
        if connection.in_atomic_block:
            # The backup API cannot read through a connection that is writing; the
            # connection's own image (its transaction's view) goes through memory.
            image = sqlite3.connect(":memory:")
            image.deserialize(connection.connection.serialize())
            image.backup(dest)
            image.close()
        else:
            connection.connection.backup(dest)
        return table_checksums(dest, "sqlite")
    finally:
        dest.close()


def _sqlite_restore(path: Path, replace: bool) -> dict[str, dict[str, Any]]:
    connection.ensure_connection()
    target = connection.connection
    if not replace and _sqlite_tables(target.cursor()):
        raise BackupError(
            "the target database is not empty (use --replace to overwrite it)"
        )
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        src.backup(target)
    finally:
        src.close()
    return table_checksums(target, "sqlite")


# --- entry points -------------------------------------------------------------------


def backup(path: Path) -> dict[str, Any]:
    """Write the database to ``path`` and its manifest next to it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise BackupError(f"{path} exists")
    vendor = connection.vendor
    if vendor == "postgresql":
        tables = _pg_backup(path)
    elif vendor == "sqlite":
        tables = _sqlite_backup(path)
    else:
        raise BackupError(f"unsupported database: {vendor}")
    os.chmod(path, 0o600)  # it holds the audit log and ciphertexts
    manifest = {
        "format": FORMAT,
        "vendor": vendor,
        "created_at": timezone.now().isoformat(),
        "tables": tables,
    }
    mpath = manifest_path(path)
    mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def restore(path: Path, *, replace: bool = False) -> list[str]:
    """Restore ``path`` into the configured database (empty unless ``replace``);
    returns the differences from the backup's manifest (empty: all tables match)."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path} not found")
    mpath = manifest_path(path)
    manifest = json.loads(mpath.read_text()) if mpath.exists() else None
    vendor = connection.vendor
    if manifest and manifest["vendor"] != vendor:
        raise BackupError(
            f"a {manifest['vendor']} backup cannot be restored into {vendor}"
        )
    if vendor == "postgresql":
        tables = _pg_restore(path, replace)
    elif vendor == "sqlite":
        tables = _sqlite_restore(path, replace)
    else:
        raise BackupError(f"unsupported database: {vendor}")
    if manifest is None:
        return ["no manifest next to the backup: nothing to compare"]
    return compare(manifest["tables"], tables)
