"""Open311 rules: attributes of every datatype checked, locations, held requests and
their tokens, jurisdictions, the 90-day window, keys, personal data kept out."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from civicgrid.core.models import AuditRecord
from civicgrid.events.models import Event, Source
from civicgrid.events.services import event_report
from civicgrid.exchange import open311
from civicgrid.exchange.models import Open311Request
from civicgrid.exchange.tests.conftest import O311, citizen_event, good_form

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


def errors(response: object) -> list[str]:
    return [e["description"] for e in response.json()]  # type: ignore[attr-defined]


def said(msgid: str, **params: object) -> str:
    """The message as the (always Chinese) interface says it."""
    with translation.override("zh-hans"):
        return (
            translation.gettext(msgid) % params
            if params
            else translation.gettext(msgid)
        )


@pytest.mark.parametrize(
    ("change", "msgid", "params"),
    [
        ({"attribute[shop]": ""}, "attribute %(code)s is required", {"code": "shop"}),
        (
            {"attribute[blocking]": "sky"},
            "not one of the listed values: %(v)s",
            {"v": "sky"},
        ),
        (
            {"attribute[goods][]": ["fruit", "cars"]},
            "not one of the listed values: %(v)s",
            {"v": "cars"},
        ),
        ({"attribute[stalls]": "many"}, "not a number: %(v)s", {"v": "many"}),
        (
            {"attribute[seen_at]": "yesterday"},
            "not a W3C date-time with a zone: %(v)s",
            {"v": "yesterday"},
        ),
        (
            {"attribute[colour]": "red"},
            "unknown attribute %(code)s",
            {"code": "colour"},
        ),
        (
            {"description": "长" * 4001},
            "description is longer than 4000 characters",
            {},
        ),
        (
            {"lat": "", "long": ""},
            "a location is required: lat and long, address_string or address_id",
            {},
        ),
        ({"long": ""}, "lat and long must be given together", {}),
        ({"lat": "north"}, "%(n)s is not a number", {"n": "lat"}),
        ({"lat": "10", "long": "10"}, "the point is not inside any grid", {}),
        (
            {"address_id": "999999999999", "lat": "", "long": ""},
            "address_id %(id)s is unknown",
            {"id": "999999999999"},
        ),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    o311: O311,
    client: Client,
    change: dict[str, object],
    msgid: str,
    params: dict[str, object],
) -> None:
    answer = client.post(f"{BASE}/requests.json", good_form(o311, **change))
    assert answer.status_code == 400, answer.content
    reason = said(msgid, **params)
    assert any(reason in e for e in errors(answer)), (reason, errors(answer))
    assert not Event.objects.filter(open311__isnull=False).exists()


def test_answers_are_stored_typed_and_written_into_the_event(
    o311: O311, client: Client
) -> None:
    answer = client.post(f"{BASE}/requests.json", good_form(o311))
    code = answer.json()[0]["service_request_id"]
    req = Open311Request.objects.get(event__code=code)
    assert req.attributes == {
        "shop": "老王水果店",
        "stalls": 3,
        "seen_at": "2026-11-29T08:15:30+08:00",
        "blocking": "walk",
        "goods": ["fruit", "food"],
    }
    event = req.event
    assert event is not None
    assert event.source == Source.CITIZEN_MOBILE and event.matter == o311.matter
    assert "问题 blocking：人行道" in event.description
    assert "问题 goods：水果、食品" in event.description
    assert event.reporter_name == "李雷" and event.reporter_phone == "13912345678"


def test_contact_is_encrypted_at_rest_and_never_listed(
    o311: O311, client: Client
) -> None:
    code = client.post(f"{BASE}/requests.json", good_form(o311)).json()[0][
        "service_request_id"
    ]
    with connection.cursor() as cur:
        cur.execute("SELECT email, phone, device_id FROM exchange_open311request")
        raw = cur.fetchone()
    assert all(v.startswith("sm4gcm:") for v in raw)
    listed = client.get(f"{BASE}/requests.xml").content.decode()
    updates = client.get(f"{BASE}/servicerequestupdates.json").content.decode()
    for text in (listed, updates):
        assert code in text
        for personal in ("13912345678", "li@example.cn", "李雷", "dev-1", "acc-1"):
            assert personal not in text


def test_address_only_is_held_and_the_token_resolves_when_placed(
    o311: O311, client: Client
) -> None:
    form = good_form(o311, lat="", long="", address_string="张店区共青团西路 88 号")
    token = client.post(f"{BASE}/requests.json", form).json()[0]["token"]
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": None, "token": token}
    ]
    req = Open311Request.objects.get(token=token)
    event = open311.request_place(
        actor=o311.center, req=req, lat=o311.lat, long=o311.lon
    )
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": event.code, "token": token}
    ]
    assert event.address == "张店区共青团西路 88 号"
    assert client.get(f"{BASE}/tokens/unknown.json").status_code == 404


def test_address_id_may_name_a_grid(o311: O311, client: Client) -> None:
    form = good_form(o311, lat="", long="", address_id=o311.grid.code)
    answer = client.post(f"{BASE}/requests.json", form)
    assert answer.status_code == 201, answer.content
    code = answer.json()[0]["service_request_id"]
    shown = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert shown["address_id"] == o311.grid.code


def test_a_retry_with_the_same_idempotency_key_gives_the_same_request(
    o311: O311, client: Client
) -> None:
    first = client.post(
        f"{BASE}/requests.json", good_form(o311), HTTP_IDEMPOTENCY_KEY="k-1"
    ).json()[0]
    again = client.post(
        f"{BASE}/requests.json", good_form(o311), HTTP_IDEMPOTENCY_KEY="k-1"
    ).json()[0]
    assert first["service_request_id"] == again["service_request_id"]
    assert Open311Request.objects.count() == 1
    other = client.post(
        f"{BASE}/requests.json",
        good_form(o311, description="别的事"),
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 400


def test_keys_jurisdictions_and_unknown_things(o311: O311, client: Client) -> None:
    assert (
        client.post(f"{BASE}/requests.json", good_form(o311, api_key="")).status_code
        == 403
    )
    assert client.get(f"{BASE}/services/NOPE.json").status_code == 404
    assert client.get(f"{BASE}/services.json?jurisdiction_id=mars").status_code == 404
    assert client.get(f"{BASE}/services.csv").status_code == 400
    assert client.delete(f"{BASE}/services.json").status_code == 405
    event = citizen_event(o311)
    in_zibo = client.get(f"{BASE}/requests.json?jurisdiction_id=3703").json()
    in_jinan = client.get(f"{BASE}/requests.json?jurisdiction_id=3701").json()
    assert event.code in {r["service_request_id"] for r in in_zibo}
    assert in_jinan == []
    default = client.get(
        f"{BASE}/requests.json?jurisdiction_id={open311.jurisdiction_id()}"
    )
    assert default.status_code == 200


def test_the_key_command_issues_a_working_key(o311: O311, client: Client) -> None:
    out = io.StringIO()
    call_command("open311_key", "城市随手拍", stdout=out)
    name, key = out.getvalue().strip().split(": ")
    assert name == "城市随手拍"
    answer = client.post(f"{BASE}/requests.json", good_form(o311, api_key=key))
    assert answer.status_code == 201
    assert AuditRecord.objects.filter(action="open311.client_issue").count() == 2


def test_date_window_and_status_filters(o311: O311, client: Client) -> None:
    event = citizen_event(o311)
    now = timezone.now()
    old = (now - timedelta(days=120)).isoformat()
    wide = client.get(
        f"{BASE}/requests.json",
        {"start_date": old, "end_date": now.isoformat()},
    )
    assert wide.status_code == 400
    assert errors(wide) == [said("the date range may not span more than 90 days")]
    before = client.get(
        f"{BASE}/requests.json",
        {"end_date": (now - timedelta(days=1)).isoformat()},
    ).json()
    assert event.code not in {r["service_request_id"] for r in before}
    assert client.get(f"{BASE}/requests.json?status=maybe").status_code == 400
    assert client.get(f"{BASE}/requests.json?status=closed").json() == []


def test_only_public_sources_are_shown(o311: O311, client: Client) -> None:
    internal, _ = event_report(
        actor=None,
        source=Source.GRID_WORKER,
        title="内部排查",
        description="不公开",
        lon=o311.lon,
        lat=o311.lat,
    )
    shown = {
        r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()
    }
    assert internal.code not in shown
    assert client.get(f"{BASE}/requests/{internal.code}.json").status_code == 404


def test_updates_may_be_posted_only_by_the_sending_client(
    o311: O311, client: Client
) -> None:
    code = client.post(f"{BASE}/requests.json", good_form(o311)).json()[0][
        "service_request_id"
    ]
    other, other_key = open311.client_issue(actor=None, name="other app")
    form = {
        "service_request_id": code,
        "update_id": "u1",
        "status": "OPEN",
        "updated_datetime": "2026-11-30T10:00:00+08:00",
        "description": "还没处理",
    }
    refused = client.post(
        f"{BASE}/servicerequestupdates.json", {**form, "api_key": other_key}
    )
    assert refused.status_code == 403
    ok = client.post(
        f"{BASE}/servicerequestupdates.json", {**form, "api_key": o311.key}
    )
    again = client.post(
        f"{BASE}/servicerequestupdates.json", {**form, "api_key": o311.key}
    )
    assert ok.json() == again.json()  # the same update_id is taken once
    listed = client.get(f"{BASE}/servicerequestupdates.json").json()
    mine = [u for u in listed if u["service_request_id"] == code]
    assert [u["external_status_code"] for u in mine] == ["reported", None]
    assert mine[1]["description"] == "还没处理"
    missing = client.post(f"{BASE}/servicerequestupdates.json", {"api_key": o311.key})
    assert missing.status_code == 400
    assert Event.objects.filter(code=code).exists()


def test_private_matters_and_unclassified_reports_are_not_shown(
    o311: O311, client: Client
) -> None:
    from civicgrid.events.models import Matter

    clue = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": o311.key,
            "service_code": "ZA01003",  # 涉黄涉赌涉毒线索: accepted, never listed
            "lat": o311.lat,
            "long": o311.lon,
            "description": "某出租屋夜间有人聚赌",
        },
    )
    assert clue.status_code == 201
    code = clue.json()[0]["service_request_id"]
    assert Matter.objects.get(code="ZA01003").code == "ZA01003"
    unclassified, _ = event_report(
        actor=None,
        source=Source.CITIZEN_WEB,
        title="有个情况想反映",
        description="说不清楚属于哪类",
        lon=o311.lon,
        lat=o311.lat,
    )
    assert unclassified.matter is None
    shown = {
        r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()
    }
    updates = {
        u["service_request_id"]
        for u in client.get(f"{BASE}/servicerequestupdates.json").json()
    }
    for hidden in (code, unclassified.code):
        assert hidden not in shown and hidden not in updates
        assert client.get(f"{BASE}/requests/{hidden}.json").status_code == 404


def test_the_demo_key_and_shipped_attributes(client: Client, o311: O311) -> None:
    first = open311.demo_key()
    second = open311.demo_key()  # a reload renews the key; the old one stops working
    assert (
        client.post(f"{BASE}/requests.json", good_form(o311, api_key=first)).status_code
        == 403
    )
    definition = client.get(f"{BASE}/services/CG02003.json").json()
    assert {a["datatype"] for a in definition["attributes"]} == {"string", "datetime"}
    answer = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": second,
            "service_code": "CG02003",
            "lat": o311.lat,
            "long": o311.lon,
            "attribute[lamp_id]": "ZD-0123",
        },
    )
    assert answer.status_code == 201, answer.content


def test_a_city_jurisdiction_refuses_places_of_another_city(
    o311: O311, client: Client
) -> None:
    elsewhere = client.post(
        f"{BASE}/requests.json", good_form(o311, jurisdiction_id="3701")
    )
    assert elsewhere.status_code == 400
    assert errors(elsewhere) == [
        said("the place is outside jurisdiction %(j)s", j="3701")
    ]
    assert not Event.objects.exists()
    inside = client.post(
        f"{BASE}/requests.json", good_form(o311, jurisdiction_id="3703")
    )
    assert inside.status_code == 201
