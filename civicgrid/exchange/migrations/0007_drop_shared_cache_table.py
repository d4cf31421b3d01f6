"""The database cache's table goes: request rates are counted in core_ratecount
(civicgrid.core.ratelimit) and Django's cache is per process again (settings.CACHES),
so nothing reads or writes ``civicgrid_cache`` any more."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("exchange", "0006_connected_system_token")]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS civicgrid_cache", migrations.RunSQL.noop
        )
    ]
