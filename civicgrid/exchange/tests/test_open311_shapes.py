"""Every GeoReport v2 method, in XML and in JSON, has the structure of the
specification's own examples (wiki.open311.org/GeoReport_v2, and FixMyStreet's
servicerequestupdates extension): the same elements, nested the same way."""

import json
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from civicgrid.events import engine
from civicgrid.exchange.open311_format import ITEM
from civicgrid.exchange.tests.conftest import O311, citizen_event, good_form

pytestmark = pytest.mark.django_db

# The specification's examples (values shortened; structure as published).
SPEC: dict[str, str] = {
    "discovery": """<?xml version="1.0" encoding="utf-8"?>
<discovery>
  <changeset>2011-02-03 14:18</changeset>
  <contact>You can email or call for assistance api@mycity.org</contact>
  <key_service>You can request a key here: http://api.mycity.gov/api_key</key_service>
  <endpoints>
    <endpoint>
      <specification>http://wiki.open311.org/GeoReport_v2</specification>
      <url>http://open311.sfgov.org/dev/v2</url>
      <changeset>2010-11-23 09:01</changeset>
      <type>test</type>
      <formats><format>text/xml</format><format>application/json</format></formats>
    </endpoint>
  </endpoints>
</discovery>""",
    "services": """<?xml version="1.0" encoding="utf-8"?>
<services>
  <service>
    <service_code>001</service_code>
    <service_name>Cans left out 24x7</service_name>
    <description>Garbage or recycling cans that have been left out.</description>
    <metadata>true</metadata>
    <type>realtime</type>
    <keywords>lorem, ipsum, dolor</keywords>
    <group>sanitation</group>
  </service>
</services>""",
    "service_definition": """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
  <service_code>DMV66</service_code>
  <attributes>
    <attribute>
      <variable>true</variable>
      <code>WHISHETN</code>
      <datatype>singlevaluelist</datatype>
      <required>true</required>
      <datatype_description></datatype_description>
      <order>1</order>
      <description>What is the ticket/tag/DL number?</description>
      <values>
        <value><key>123</key><name>Ford</name></value>
        <value><key>124</key><name>Chrysler</name></value>
      </values>
    </attribute>
  </attributes>
</service_definition>""",
    "post": """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>293944</service_request_id>
    <service_notice>The City will inspect within 24 hours</service_notice>
    <account_id/>
  </request>
</service_requests>""",
    "post_token": """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <token>2938384</token>
    <service_notice>The City will inspect within 24 hours</service_notice>
    <account_id/>
  </request>
</service_requests>""",
    "token": """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <token>12345</token>
  </request>
</service_requests>""",
    "requests": """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <status>closed</status>
    <status_notes>Duplicate request.</status_notes>
    <service_name>Sidewalk and Curb Issues</service_name>
    <service_code>006</service_code>
    <description></description>
    <agency_responsible></agency_responsible>
    <service_notice></service_notice>
    <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
    <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
    <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
    <address>8TH AVE and JUDAH ST</address>
    <address_id>545483</address_id>
    <zipcode>94122</zipcode>
    <lat>37.762221815</lat>
    <long>-122.4651145</long>
    <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
  </request>
</service_requests>""",
    "errors": """<?xml version="1.0" encoding="utf-8"?>
<errors>
  <error>
    <code>403</code>
    <description>Invalid api_key received -- can't proceed with create_request.</description>
  </error>
</errors>""",
    # FixMyStreet's extension (its Open311 spec wiki); external_status_code is the
    # extension's field for the back office's own state.
    "updates": """<?xml version="1.0" encoding="utf-8"?>
<service_requests_updates>
  <request_update>
    <update_id>123456</update_id>
    <service_request_id>638344</service_request_id>
    <status>CLOSED</status>
    <external_status_code>closed</external_status_code>
    <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
    <description>Duplicate request.</description>
    <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
  </request_update>
</service_requests_updates>""",
    "update_post": """<?xml version="1.0" encoding="utf-8"?>
<service_request_updates>
  <request_update><update_id>123456</update_id></request_update>
</service_request_updates>""",
}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> None:
    for k, v in b.items():
        _merge(a.setdefault(k, {}), v)


def shape(el: ET.Element) -> dict[str, Any]:
    """The element names below ``el``, repeated siblings merged."""
    out: dict[str, Any] = {}
    for child in el:
        _merge(out.setdefault(child.tag, {}), shape(child))
    return out


def json_shape(value: Any, tag: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: json_shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            _merge(merged, json_shape(item, ITEM[tag]))
        return {ITEM[tag]: merged} if value else {}
    return {}


def check(response: Any, name: str, fmt: str) -> Any:
    spec = ET.fromstring(SPEC[name])  # noqa: S314 (our own literal)
    body = response.content
    if fmt == "xml":
        assert response["Content-Type"].startswith("text/xml")
        assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        ours = ET.fromstring(body)  # noqa: S314 (our own output)
        assert ours.tag == spec.tag
        assert shape(ours) == shape(spec)
        return ours
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(body)
    assert json_shape(data, spec.tag) == shape(spec)
    return data


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_every_method_has_the_spec_shape(o311: O311, client: Client, fmt: str) -> None:
    base = "/open311/v2"
    check(client.get(f"/open311/discovery.{fmt}"), "discovery", fmt)
    services = check(client.get(f"{base}/services.{fmt}"), "services", fmt)
    check(
        client.get(f"{base}/services/{o311.matter.code}.{fmt}"),
        "service_definition",
        fmt,
    )

    posted = client.post(f"{base}/requests.{fmt}", good_form(o311))
    assert posted.status_code == 201, posted.content
    check(posted, "post", fmt)
    deferred = client.post(
        f"{base}/requests.{fmt}",
        good_form(o311, lat="", long="", address_string="张店区共青团西路 88 号"),
    )
    check(deferred, "post_token", fmt)

    event = citizen_event(o311)
    engine.event_act(
        actor=o311.center,
        event_id=event.pk,
        transition="reject",
        version=1,
        data={"reason": "不属于受理范围"},
    )
    listed = check(client.get(f"{base}/requests.{fmt}"), "requests", fmt)
    check(client.get(f"{base}/requests/{event.code}.{fmt}"), "requests", fmt)
    check(client.get(f"{base}/servicerequestupdates.{fmt}"), "updates", fmt)
    check(client.get(f"{base}/requests/NOPE.{fmt}"), "errors", fmt)
    check(client.post(f"{base}/requests.{fmt}", {"api_key": "bad"}), "errors", fmt)

    if fmt == "json":  # the JSON types of the spec's JSON examples
        assert services[0]["metadata"] in (True, False)
        mine = next(r for r in listed if r["service_request_id"] == event.code)
        assert isinstance(mine["lat"], float) and isinstance(mine["long"], float)
        assert mine["status"] == "closed" and mine["status_notes"] == "不予受理"
    else:
        assert services.find("service/metadata").text in ("true", "false")


def test_token_and_update_post_shapes(o311: O311, client: Client) -> None:
    base = "/open311/v2"
    deferred = client.post(
        f"{base}/requests.json",
        good_form(o311, lat="", long="", address_string="张店区共青团西路 88 号"),
    ).json()[0]
    for fmt in ("xml", "json"):
        check(client.get(f"{base}/tokens/{deferred['token']}.{fmt}"), "token", fmt)
    created = client.post(f"{base}/requests.json", good_form(o311)).json()[0]
    for i, fmt in enumerate(("xml", "json")):
        answer = client.post(
            f"{base}/servicerequestupdates.{fmt}",
            {
                "api_key": o311.key,
                "service_request_id": created["service_request_id"],
                "update_id": f"fms-{i}",
                "status": "OPEN",
                "updated_datetime": "2026-11-30T10:00:00+08:00",
                "description": "摊位还在",
            },
        )
        assert answer.status_code == 201, answer.content
        check(answer, "update_post", fmt)
