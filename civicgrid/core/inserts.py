"""One new row, inserted by a statement built once per model and process.

``Model.save(force_insert=True)`` compiles its INSERT statement anew on every call:
for a report's event, timeline row and audit record that is about a tenth of the
request's CPU (bench/intake_profile.py). ``insert`` does what the ORM's save does
for a plain new row (each field's ``pre_save`` and database preparation, so
``auto_now_add``, defaults and encrypted personal data behave the same; the pre- and
post-save signals when anything listens) with the statement built once. Models the
shortcut does not cover (an overridden ``save``, multi-table inheritance, columns
the database fills in, a backend that cannot return the new key) are saved by the
ORM itself."""

from functools import lru_cache
from typing import Any

from django.db import connections, models, router
from django.db.models.signals import post_save, pre_save


@lru_cache(maxsize=64)
def _plan(model: type[models.Model], alias: str) -> tuple[list[Any], str] | None:
    """The fields to write and the statement, or None: leave it to the ORM."""
    meta = model._meta
    connection = connections[alias]
    returning = [f for f in meta.db_returning_fields if f is not meta.pk]
    if (
        model.save is not models.Model.save
        or meta.parents
        or returning
        or any(f.db_default is not models.NOT_PROVIDED for f in meta.concrete_fields)
        or not connection.features.can_return_columns_from_insert
    ):
        return None
    fields = [f for f in meta.local_concrete_fields if f.generated is False]
    if isinstance(meta.pk, models.AutoField | models.BigAutoField):
        fields = [f for f in fields if f is not meta.pk]
    q = connection.ops.quote_name
    columns = ", ".join(q(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({marks}) RETURNING {q(str(meta.pk.column))}"
    )
    return fields, sql


def insert(obj: models.Model, using: str | None = None) -> None:
    """``obj.save(force_insert=True)`` for a new row, in the caller's transaction."""
    model = type(obj)
    alias = using or router.db_for_write(model, instance=obj)
    plan = _plan(model, alias)
    if plan is None:
        obj.save(force_insert=True, using=alias)
        return
    fields, sql = plan
    # As save() does: a foreign key set to an object saved after it was assigned
    # takes that object's new key, and one to an unsaved object is refused.
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    if pre_save.has_listeners(model):
        pre_save.send(
            sender=model, instance=obj, raw=False, using=alias, update_fields=None
        )
    connection = connections[alias]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    assert row is not None
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = alias
    if post_save.has_listeners(model):
        post_save.send(
            sender=model,
            instance=obj,
            created=True,
            update_fields=None,
            raw=False,
            using=alias,
        )
