"""A configuration token for the connected systems: the trigger of events 0004 renews
it on any write to the table, so each process keeps its copy of the systems that
listen to webhooks and notices a change with one cheap read (exchange.webhooks)."""

import importlib
import uuid

from django.db import migrations

TABLE = "exchange_connectedsystem"
TRIGGERS = importlib.import_module(
    "civicgrid.events.migrations.0004_config_version_triggers"
)


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(TRIGGERS.PG_TRIGGER.format(table=TABLE))
    elif vendor == "sqlite":
        for op in TRIGGERS.OPS:
            schema_editor.execute(TRIGGERS.SQLITE_TRIGGER.format(table=TABLE, op=op))
    else:
        return  # no token: the systems are read at every step
    ConfigVersion = apps.get_model("events", "ConfigVersion")
    ConfigVersion.objects.update_or_create(
        table=TABLE, defaults={"token": uuid.uuid4().hex}
    )


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_config_changed ON {TABLE}")
    elif vendor == "sqlite":
        for op in TRIGGERS.OPS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_config_{op}")
    ConfigVersion = apps.get_model("events", "ConfigVersion")
    ConfigVersion.objects.filter(table=TABLE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0005_shared_cache_table"),
        ("events", "0004_config_version_triggers"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
