"""The results' drivers as PostgreSQL ``json`` (kept as written) rather than
``jsonb``: see ``models.TextJSONField``. Nothing changes on the other databases
(JSON is text there), so their table is not rebuilt."""

from typing import Any

from django.db import migrations

import civicgrid.peace_index.models

TABLE = "peace_index_arearesult"


def to_json(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER TABLE "{TABLE}" ALTER COLUMN "drivers" TYPE json')


def to_jsonb(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" ALTER COLUMN "drivers" TYPE jsonb '
            'USING "drivers"::jsonb'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("peace_index", "0003_lean_results"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="arearesult",
                    name="drivers",
                    field=civicgrid.peace_index.models.TextJSONField(
                        default=list, verbose_name="items that drove it"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(to_json, to_jsonb)],
        ),
    ]
