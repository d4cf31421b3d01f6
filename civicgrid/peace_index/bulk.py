"""Writing many rows at once, past the ORM's per-value overhead: COPY on
PostgreSQL, one prepared ``executemany`` on SQLite. For the figures of a month
(tens of thousands of results and notices at province scale)."""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in the order of ``fields``, JSON fields already
    dumped with :func:`dump`) into the model's table, in the current transaction.
    No signals, no ``save()``: for plain rows whose values are all given."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(_column(model, f)) for f in fields)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # a page cache of 128 MB on this connection (2 MB by default): a
            # month's rows land all over the results' area index
            cur.execute("PRAGMA cache_size = -131072")
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
            cur.executemany(sql, rows)  # type: ignore[arg-type]  # any iterable will do


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return str(field.column)


def dump(value: Any) -> str:
    """A JSON field's value as the database stores it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
