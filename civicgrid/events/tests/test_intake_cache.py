"""The intake path keeps per-process copies of the matter catalogue, the workflow
definitions and the grids (civicgrid.events.config, regions.locate): every change,
however it is written, takes effect on the next report of the same process."""

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.events import config
from civicgrid.events.models import Event, Matter, MatterCategory, Source
from civicgrid.events.services import (
    DEFINITIONS_DIR,
    event_report,
    workflow_install,
)
from civicgrid.events.tests.conftest import Cast
from civicgrid.regions.locate import locator
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db

# Words no shipped matter uses: only the matters made here can route them.
TEXT = "紫色独角兽咕噜咕噜"


def routed(cast: Cast, text: str = TEXT) -> Event:
    p = cast.grid.geometry.representative_point()
    event, created = event_report(
        actor=None,
        source=Source.CITIZEN_WEB,
        title=text,
        description=text,
        lon=p.x,
        lat=p.y,
    )
    assert created
    return event


def new_matter(code: str, keywords: str) -> Matter:
    cat, _ = MatterCategory.objects.get_or_create(code="T", defaults={"name": "测试"})
    return Matter.objects.create(
        code=code, name=f"测试事项{code}", category=cat, keywords=keywords
    )


def test_a_matter_added_after_a_report_routes_the_next_one(cast: Cast) -> None:
    assert routed(cast).matter is None  # the copy is now warm
    matter = new_matter("T-UNI", "紫色独角兽")
    assert routed(cast).matter == matter


def test_queryset_updates_of_matters_take_effect(cast: Cast) -> None:
    """Updates that bypass save() and signals (queryset update) are seen too."""
    matter = new_matter("T-UNI", "紫色独角兽")
    assert routed(cast).matter == matter
    Matter.objects.filter(pk=matter.pk).update(keywords="绿色独角兽")
    assert routed(cast).matter is None
    Matter.objects.filter(pk=matter.pk).update(keywords="紫色独角兽", active=False)
    assert routed(cast).matter is None
    Matter.objects.filter(pk=matter.pk).update(active=True)
    assert routed(cast).matter == matter
    # Two more matters as good as the first: no proposal reaches half the hits.
    new_matter("T-UNJ", "独角兽咕噜")
    third = new_matter("T-UNK", "角兽咕噜咕")
    assert routed(cast).matter is None
    Matter.objects.filter(pk=third.pk).delete()  # now half: the first by code
    assert routed(cast).matter == matter


def test_a_new_workflow_version_is_used_by_the_next_report(cast: Cast) -> None:
    data: dict[str, Any] = json.loads(
        (DEFINITIONS_DIR / "full_loop.json").read_text(encoding="utf-8")
    )
    workflow_install(actor=None, city_code="", data=data)
    before = routed(cast)
    data["states"]["reported"]["label"] = "新报告待受理"
    wf = workflow_install(actor=None, city_code="", data=data)
    after = routed(cast)
    assert before.workflow_id != after.workflow_id == wf.pk
    # A city's own definition wins over the default from the next report on.
    data["states"]["reported"]["label"] = "淄博待受理"
    zibo = workflow_install(actor=None, city_code=cast.grid.city_code, data=data)
    assert routed(cast).workflow_id == zibo.pk


def test_every_write_renews_the_token() -> None:
    def token() -> Any:
        return config.read_versions().config

    start = token()
    assert start is not None
    matter = new_matter("T-TOK", "令牌")
    created = token()
    Matter.objects.filter(pk=matter.pk).update(name="改名")
    updated = token()
    matter.delete()
    deleted = token()
    assert len({start, created, updated, deleted}) == 4


def test_the_grid_from_the_index_is_the_stored_one(cast: Cast) -> None:
    locator.refresh()
    p = cast.grid.geometry.representative_point()
    grid = locator.locate_grid(p.x, p.y)
    assert grid is not None
    stored = Grid.objects.get(pk=grid.pk)
    assert (grid.code, grid.region_code, grid.city_code) == (
        stored.code,
        stored.region_code,
        stored.city_code,
    )
    assert routed(cast).grid_id == cast.grid.pk


def test_a_warm_report_reads_no_configuration_table(cast: Cast) -> None:
    """After the first report, grids, matters and workflows come from the copies:
    one query reads the versions, none reads those tables."""
    routed(cast)
    with CaptureQueriesContext(connection) as queries:
        routed(cast)
    sql = [q["sql"] for q in queries.captured_queries]
    for table in ('"events_matter"', '"events_workflowdefinition"', '"regions_grid"'):
        assert not [q for q in sql if table in q], table
    assert len([q for q in sql if "events_configversion" in q]) == 1
