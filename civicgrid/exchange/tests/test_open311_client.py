"""The real GeoReport v2 client from PyPI (``georeport``) against a live server: it
lists services, reads a service definition, reads back a request posted with the
API key and filters requests, in JSON and in XML.

``georeport`` 0.3.1 has no method to POST a request, so the POST goes through
``requests`` (the client's own HTTP library), form-encoded as the spec says.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.conf import settings
from georeport import GeoReport

from civicgrid.events import engine
from civicgrid.exchange.tests.conftest import (
    O311,
    citizen_event,
    ensure_reference_data,
    good_form,
)

# A live server needs committed data, so each test ends with a flush; the regions
# the session loaded are kept out of it (see civicgrid/events/tests/test_browser.py)
# and the workflows and catalogue are installed again afterwards.
KEEP = {"civicgrid.regions"}
pytestmark = pytest.mark.django_db(
    transaction=True,
    available_apps=[a for a in settings.INSTALLED_APPS if a not in KEEP],
)


@pytest.fixture(scope="module", autouse=True)
def reinstall_reference_data(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_against_our_server(
    o311: O311, live_server: Any, fmt: str
) -> None:
    root = f"{live_server.url}/open311/v2"
    geo = GeoReport(root, api_key=o311.key, output_format=fmt)

    services = geo.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code[o311.matter.code]["service_name"] == "占道经营"
    assert len(services) > 50  # the whole default catalogue

    definition = geo.get_service_definition(o311.matter.code)
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    assert {a["datatype"] for a in attributes} == {
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    }

    posted = requests.post(f"{root}/requests.{fmt}", data=good_form(o311), timeout=30)
    assert posted.status_code == 201, posted.text
    if fmt == "json":
        code = posted.json()[0]["service_request_id"]
    else:
        code = posted.text.split("<service_request_id>")[1].split("<")[0]

    back = geo.get_service_request(code)
    assert back["service_request_id"] == code
    assert back["service_code"] == o311.matter.code
    assert back["status"] == "open"
    assert back["status_notes"] == "待受理"
    assert "老王水果店" in back["description"]
    for personal in ("13912345678", "li@example.cn", "李雷"):
        assert personal not in str(back)

    closed = citizen_event(o311, title="井盖缺失")
    engine.event_act(
        actor=o311.center,
        event_id=closed.pk,
        transition="reject",
        version=1,
        data={"reason": "重复"},
    )
    listed = geo.get_service_requests(status="open", service_code=o311.matter.code)
    listed = listed if isinstance(listed, list) else [listed]
    codes = {r["service_request_id"] for r in listed}
    assert code in codes and closed.code not in codes
    only_closed = geo.get_service_requests(status="closed")
    only_closed = only_closed if isinstance(only_closed, list) else [only_closed]
    assert [r["service_request_id"] for r in only_closed] == [closed.code]
    both = geo.get_service_requests(service_request_id=f"{code},{closed.code}")
    assert {r["service_request_id"] for r in both} == {code, closed.code}


def test_wrong_key_is_refused_over_http(o311: O311, live_server: Any) -> None:
    root = f"{live_server.url}/open311/v2"
    answer = requests.post(
        f"{root}/requests.json", data=good_form(o311, api_key="nope"), timeout=30
    )
    assert answer.status_code == 403
    assert answer.json()[0]["code"] == 403
