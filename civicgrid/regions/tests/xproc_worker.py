"""A separate process for the cross-process locate test: reads one JSON command per
line on stdin and answers one JSON line on stdout."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from shapely import box  # noqa: E402

from civicgrid.regions import services  # noqa: E402
from civicgrid.regions.locate import locator  # noqa: E402
from civicgrid.regions.models import Grid, Region  # noqa: E402

VILLAGE = "980101001001"


def setup() -> dict[str, object]:
    call_command("migrate", verbosity=0)
    parent = None
    for n, level in (
        (2, "province"),
        (4, "city"),
        (6, "county"),
        (9, "town"),
        (12, "village"),
    ):
        code = VILLAGE[:n]
        parent = Region.objects.create(
            code=code.ljust(12, "0"),
            name=f"测试{level}",
            level=level,
            parent=parent,
            region_code=code,
            city_code=code[:4] if n >= 4 else "",
        )
    services.grid_create(
        actor=None,
        code=VILLAGE + "001",
        name="一",
        geometry=box(100, 30, 100.01, 30.01),
    )
    return {"ok": True}


def main() -> None:
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "setup":
            out = setup()
        elif cmd["op"] == "locate":
            locator.refresh()
            out = {"code": locator.locate(cmd["lon"], cmd["lat"])}
        elif cmd["op"] == "move":
            grid = Grid.objects.get(code=cmd["code"])
            services.grid_update(actor=None, grid=grid, geometry=box(*cmd["box"]))
            out = {"ok": True}
        else:
            out = {"error": "unknown op"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
