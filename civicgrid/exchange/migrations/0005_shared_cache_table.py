"""The table of Django's database cache (settings.CACHES), the cache every worker
process shares: made with ``migrate`` so no install, test or bench set-up can miss
it. ``createcachetable`` is idempotent and makes nothing for other cache backends."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command(
        "createcachetable", database=schema_editor.connection.alias, verbosity=0
    )


class Migration(migrations.Migration):
    dependencies = [("exchange", "0004_webhook_topics_and_disputes")]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
