"""Backup and restore: the whole database into a file, back into an EMPTY database
(another process, as an operator would run it), with every table's row count and
checksum equal to the source's."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from civicgrid.core.backup import manifest_path, table_checksums

pytestmark = pytest.mark.django_db
MANAGE = Path(settings.BASE_DIR) / "manage.py"


def source_checksums() -> dict[str, dict[str, Any]]:
    """The source database as another connection sees it (committed data)."""
    if connection.vendor == "postgresql":
        raw = connection.get_new_connection(connection.get_connection_params())
        try:
            return table_checksums(raw, "postgresql")
        finally:
            raw.close()
    connection.ensure_connection()
    return table_checksums(connection.connection, "sqlite")


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """(DATABASE_URL, opener) of a new empty database, dropped afterwards."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"

        def open_sqlite() -> Any:
            import sqlite3

            return sqlite3.connect(path)

        yield f"sqlite:///{path}", open_sqlite
        return
    s = connection.settings_dict
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = connection.get_new_connection(connection.get_connection_params())
    admin.autocommit = True
    admin.execute(f'CREATE DATABASE "{name}"')
    params = {**connection.get_connection_params(), "dbname": name}
    url = f"postgres://{s['USER']}:{s.get('PASSWORD') or ''}@{s['HOST']}:{s['PORT']}/{name}"
    try:
        yield url, lambda: connection.get_new_connection(params)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_backup_restores_into_an_empty_database_table_for_table(
    tmp_path: Path, empty_database: tuple[str, Any]
) -> None:
    url, open_target = empty_database
    dump = tmp_path / "civicgrid.backup"
    call_command("backup", str(dump), stdout=StringIO())
    assert dump.stat().st_size > 0 and manifest_path(dump).exists()
    source = source_checksums()
    assert source["regions_region"]["rows"] > 100  # real data went in

    done = manage("restore", str(dump), database_url=url)
    assert done.returncode == 0, done.stderr
    assert "every table matches" in done.stdout

    target = open_target()
    try:
        restored = table_checksums(target, connection.vendor)
    finally:
        target.close()
    assert restored == source
    assert {t: v["rows"] for t, v in restored.items()} == {
        t: v["rows"] for t, v in source.items()
    }

    # The target is no longer empty: a second restore is refused.
    again = manage("restore", str(dump), database_url=url)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_restore_reports_tables_that_differ_from_the_manifest(
    tmp_path: Path, empty_database: tuple[str, Any]
) -> None:
    """The checksums are really compared: a manifest edited to expect other rows
    makes the restore fail, naming the table."""
    import json

    url, _ = empty_database
    dump = tmp_path / "civicgrid.backup"
    call_command("backup", str(dump), stdout=StringIO())
    mpath = manifest_path(dump)
    manifest = json.loads(mpath.read_text())
    manifest["tables"]["core_auditrecord"]["checksum"] = "0"
    mpath.write_text(json.dumps(manifest))
    done = manage("restore", str(dump), database_url=url)
    assert done.returncode != 0
    assert "core_auditrecord: checksum differs" in done.stderr


def test_backup_refuses_to_overwrite(tmp_path: Path) -> None:
    dump = tmp_path / "x.backup"
    dump.write_text("")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(dump), stdout=StringIO())
