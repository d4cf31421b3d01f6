"""Open311 request rates (DRF throttling): POSTs per client by API key, GETs per
address without a key; 429 in the spec's errors shape, XML and JSON, with
Retry-After; a client's own rate; the bucket of one client does not hold another."""

from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from civicgrid.conftest import clear_rates
from civicgrid.exchange.models import Open311Client
from civicgrid.exchange.open311 import client_issue
from civicgrid.exchange.tests.conftest import O311, good_form

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def rates(settings: Any) -> Iterator[None]:
    clear_rates()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "open311_post": "2/min",
            "open311_read": "3/min",
        },
    }
    yield
    clear_rates()


def test_posts_are_limited_per_api_key(client: Client, o311: O311) -> None:
    for _ in range(2):
        assert client.post(f"{BASE}/requests.json", good_form(o311)).status_code == 201
    refused = client.post(f"{BASE}/requests.json", good_form(o311))
    assert refused.status_code == 429
    [error] = refused.json()
    assert error["code"] == 429 and error["description"]
    assert 1 <= int(refused["Retry-After"]) <= 60

    xml = client.post(f"{BASE}/requests.xml", good_form(o311))
    assert xml.status_code == 429 and xml["Content-Type"].startswith("text/xml")
    root = ET.fromstring(xml.content)  # noqa: S314 (our own output)
    assert root.tag == "errors"
    assert [e.findtext("code") for e in root.findall("error")] == ["429"]

    # Another client (another key), same address: its own bucket.
    _, other = client_issue(actor=None, name="other app")
    answer = client.post(f"{BASE}/requests.json", good_form(o311, api_key=other))
    assert answer.status_code == 201


def test_a_client_may_have_its_own_rate(client: Client, o311: O311) -> None:
    Open311Client.objects.filter(pk=o311.client.pk).update(post_rate="4/min")
    codes = [
        client.post(f"{BASE}/requests.json", good_form(o311)).status_code
        for _ in range(5)
    ]
    assert codes == [201, 201, 201, 201, 429]


def test_gets_without_key_are_limited_per_address(o311: O311) -> None:
    here = Client(REMOTE_ADDR="10.0.0.1")
    codes = [here.get(f"{BASE}/services.json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="10.0.0.2").get(f"{BASE}/services.xml").status_code == 200
    # With a valid key the reads count against the client, not the address.
    keyed = [
        here.get(f"{BASE}/services.json", {"api_key": o311.key}).status_code
        for _ in range(4)
    ]
    assert keyed == [200, 200, 200, 429]


def test_guessed_keys_count_against_the_address(o311: O311) -> None:
    here = Client(REMOTE_ADDR="10.0.0.3")
    codes = [
        here.post(f"{BASE}/requests.json", good_form(o311, api_key=f"x{i}")).status_code
        for i in range(4)
    ]
    assert codes == [403, 403, 429, 429]
