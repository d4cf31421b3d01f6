"""The events REST API: intake (idempotent, validated), lists, detail, actions and the
public report and tracking endpoints."""

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from civicgrid.conftest import clear_rates
from civicgrid.events.models import Attachment, Event, EventAction, Source
from civicgrid.events.tests.conftest import Cast
from civicgrid.events.uploads import MAX_PHOTO_BYTES

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
PUBLIC = "/api/v1/public/reports/"
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def fresh_throttles_and_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Request counts live in the database (civicgrid.core.ratelimit): without
    clearing them, the public reports of one test would count against the next. Uploads go to tmp."""
    settings.MEDIA_ROOT = tmp_path / "media"
    clear_rates()
    yield
    clear_rates()


def client_for(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def png() -> bytes:
    """A real 4×4 PNG (Pillow when installed, else written by hand)."""
    try:
        from PIL import Image
    except ImportError:

        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = zlib.crc32(kind + body) & 0xFFFFFFFF
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

        raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (255, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    PIL = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    PIL.new("RGB", (4, 4), (0, 128, 0)).save(buf, "JPEG")
    return buf.getvalue()


def body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    p = cast.grid.geometry.representative_point()
    data: dict[str, Any] = {
        "title": "路边有人占道经营",
        "description": "人行道被摊位占满",
        "lon": p.x,
        "lat": p.y,
        "matter": cast.small.code,
        "reporter_phone": PHONE,
    }
    data.update(overrides)
    return data


def post_json(client: APIClient, data: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(EVENTS, data, format="json", headers=headers)


# --- intake -----------------------------------------------------------------------


def test_citizen_reports_as_json(cast: Cast) -> None:
    """A citizen's JSON report opens an event in the grid's loop and answers 201."""
    r = post_json(client_for(cast.citizen), body(cast))
    assert r.status_code == 201, r.json()
    event = Event.objects.get(code=r.json()["code"])
    assert (event.state, event.grid, event.reporter) == (
        "reported",
        cast.grid,
        cast.citizen,
    )
    assert event.source == Source.CITIZEN_WEB
    assert list(event.actions.values_list("transition", flat=True)) == ["report"]
    assert PHONE not in r.content.decode()


def test_citizen_cannot_claim_a_staff_source(cast: Cast) -> None:
    """Only staff record hotline or department reports; a citizen's is a citizen's."""
    r = post_json(client_for(cast.citizen), body(cast, source=Source.HOTLINE))
    assert r.status_code == 201
    assert r.json()["source"] == Source.CITIZEN_WEB


@pytest.mark.parametrize(
    ("make", "content_type"), [(png, "image/png"), (jpeg, "image/jpeg")]
)
def test_citizen_reports_with_a_photo(
    cast: Cast, make: Callable[[], bytes], content_type: str
) -> None:
    """A multipart report stores its photo, typed by its bytes."""
    content = make()
    r = client_for(cast.citizen).post(
        EVENTS,
        {**body(cast), "photos": SimpleUploadedFile("p.bin", content)},
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    att = Attachment.objects.get(event__code=r.json()["code"])
    assert (att.content_type, att.size) == (content_type, len(content))
    assert att.action is not None and att.action.transition == "report"


def test_retry_with_the_same_key_returns_the_first_event(cast: Cast) -> None:
    """The same Idempotency-Key and body: 200 with the first event, nothing new."""
    client = client_for(cast.citizen)
    first = post_json(client, body(cast), key="retry-1")
    again = post_json(client, body(cast), key="retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["code"] == first.json()["code"]
    assert Event.objects.filter(idempotency_key="retry-1").count() == 1
    assert EventAction.objects.filter(event__code=first.json()["code"]).count() == 1


def test_same_key_with_another_body_is_refused(cast: Cast) -> None:
    """The same key with a different request: 422, and nothing is written."""
    client = client_for(cast.citizen)
    assert post_json(client, body(cast), key="k-2").status_code == 201
    before = (Event.objects.count(), EventAction.objects.count())
    r = post_json(client, body(cast, title="另一件事"), key="k-2")
    assert r.status_code == 422
    assert "detail" in r.json()
    assert (Event.objects.count(), EventAction.objects.count()) == before


def test_another_caller_cannot_replay_a_key_to_read_the_first_event(
    cast: Cast,
) -> None:
    """The same key and body from someone else: refused, not the first event back."""
    assert post_json(client_for(cast.citizen), body(cast), key="k-3").status_code == 201
    r = post_json(client_for(cast.grid_worker), body(cast), key="k-3")
    assert r.status_code == 422 and "code" not in r.json()
    assert Event.objects.filter(idempotency_key="k-3").count() == 1


def test_a_point_outside_every_grid_is_refused_with_the_reason(cast: Cast) -> None:
    before = Event.objects.count()
    r = post_json(client_for(cast.citizen), body(cast, lon=121.45, lat=37.46))
    assert r.status_code == 400
    assert r.json()["field"] == "lon" and "grid" in r.json()["detail"]
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lon": 200.0}, "lon"),
        ({"lat": -95.0}, "lon"),  # the service names lon for the pair
        ({"lon": "east"}, "lon"),
        ({"lat": ""}, "lat"),
        ({"crs": "epsg:2437"}, "crs"),
        ({"title": ""}, "title"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"reporter_phone": "12345"}, "reporter_phone"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(
    cast: Cast, overrides: dict[str, Any], field: str
) -> None:
    before = Event.objects.count()
    r = post_json(client_for(cast.citizen), body(cast, **overrides))
    assert r.status_code == 400, r.json()
    answer = r.json()
    assert field in answer or answer.get("field") == field
    assert Event.objects.count() == before


def test_unknown_matter_is_a_400(cast: Cast) -> None:
    r = post_json(client_for(cast.citizen), body(cast, matter="NO-SUCH"))
    assert r.status_code == 400 and "matter" in r.json()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("scan.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"),
        SimpleUploadedFile("note.jpg", "这不是照片".encode()),
        SimpleUploadedFile("empty.png", b""),
    ],
    ids=["pdf", "text", "empty"],
)
def test_a_file_that_is_not_an_image_is_refused(
    cast: Cast, upload: SimpleUploadedFile
) -> None:
    """Types are read from the bytes, not the name."""
    upload.seek(0)
    before = Event.objects.count()
    r = client_for(cast.citizen).post(
        EVENTS, {**body(cast), "photos": upload}, format="multipart"
    )
    assert r.status_code == 400, r.content
    assert r.json()["field"] == "photos"
    assert Event.objects.count() == before


def test_a_photo_over_10_mb_is_refused(cast: Cast) -> None:
    big = png() + b"\0" * (MAX_PHOTO_BYTES + 1)
    before = Event.objects.count()
    r = client_for(cast.citizen).post(
        EVENTS,
        {**body(cast), "photos": SimpleUploadedFile("big.png", big)},
        format="multipart",
    )
    assert r.status_code == 400
    assert r.json()["field"] == "photos" and "10 MB" in r.json()["detail"]
    assert Event.objects.count() == before


def test_anonymous_cannot_use_the_staff_endpoint(cast: Cast) -> None:
    assert post_json(APIClient(), body(cast)).status_code in (401, 403)
    assert APIClient().get(EVENTS).status_code in (401, 403)


# --- lists --------------------------------------------------------------------------


def codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {e["code"] for e in response.json()["results"]}


def accept(cast: Cast, event: Event) -> Any:
    return client_for(cast.town).post(
        f"{EVENTS}{event.code}/actions/",
        {"transition": "accept", "version": event.version},
        format="json",
    )


def test_list_filters(cast: Cast, report: Callable[..., Event]) -> None:
    """state, region, source, overdue and created_after narrow the caller's list."""
    reported = report()
    accepted = report()
    hotline = report(actor=cast.town, source=Source.HOTLINE)
    assert accept(cast, accepted).status_code == 200
    town = client_for(cast.town)
    assert codes(town.get(EVENTS)) == {reported.code, accepted.code, hotline.code}
    assert codes(town.get(EVENTS, {"state": "accepted"})) == {accepted.code}
    assert codes(town.get(EVENTS, {"state": "reported,accepted"})) == {
        reported.code,
        accepted.code,
        hotline.code,
    }
    assert codes(town.get(EVENTS, {"source": "hotline"})) == {hotline.code}
    assert codes(town.get(EVENTS, {"region": "370303001"})) == {
        reported.code,
        accepted.code,
        hotline.code,
    }
    assert codes(town.get(EVENTS, {"region": "370303002"})) == set()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert codes(town.get(EVENTS, {"created_after": tomorrow})) == set()
    assert codes(town.get(EVENTS, {"created_before": tomorrow})) == {
        reported.code,
        accepted.code,
        hotline.code,
    }
    assert codes(town.get(EVENTS, {"overdue": "1"})) == set()
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert codes(town.get(EVENTS, {"overdue": "1"})) == {
            reported.code,
            accepted.code,
            hotline.code,
        }


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45", "29/11/2026"])
def test_a_bad_date_filter_is_a_400(cast: Cast, value: str) -> None:
    r = client_for(cast.town).get(EVENTS, {"created_after": value})
    assert r.status_code == 400
    assert "created_after" in str(r.json())


def test_lists_are_scoped(cast: Cast, report: Callable[..., Event]) -> None:
    """Another town and an unassigned department see nothing; the reporter sees theirs."""
    e = report()
    assert codes(client_for(cast.urban).get(EVENTS)) == set()
    assert codes(client_for(cast.citizen).get(EVENTS)) == {e.code}
    assert codes(client_for(cast.county).get(EVENTS)) == {e.code}


def test_no_list_or_detail_shows_a_full_phone_number(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report()
    for user in (cast.town, cast.county, cast.city, cast.grid_worker, cast.citizen):
        client = client_for(user)
        for url in (EVENTS, f"{EVENTS}{e.code}/"):
            r = client.get(url)
            assert r.status_code == 200, (user.username, url)
            assert PHONE not in r.content.decode(), (user.username, url)
    listed = client_for(cast.town).get(EVENTS).json()["results"][0]
    assert listed["reporter_phone"] == "139****5678"


# --- detail and actions -------------------------------------------------------------


def test_detail_has_the_timeline_and_the_callers_steps(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report()
    town = client_for(cast.town).get(f"{EVENTS}{e.code}/").json()
    assert [(a["transition"], a["to_state"]) for a in town["timeline"]] == [
        ("report", "reported")
    ]
    assert {t["name"] for t in town["available"]} == {"accept", "reject", "merge"}
    reject = next(t for t in town["available"] if t["name"] == "reject")
    assert reject["fields"] == ["reason"]
    for user in (cast.grid_worker, cast.citizen):
        answer = client_for(user).get(f"{EVENTS}{e.code}/").json()
        assert answer["available"] == [], user.username


def test_detail_outside_the_scope_is_a_404(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., Any]
) -> None:
    other = make_staff("api_town_b", "center_staff", region="370303002")
    e = report()
    assert client_for(other).get(f"{EVENTS}{e.code}/").status_code == 404
    r = client_for(other).post(
        f"{EVENTS}{e.code}/actions/",
        {"transition": "accept", "version": 1},
        format="json",
    )
    assert r.status_code == 404
    e.refresh_from_db()
    assert (e.state, e.version) == ("reported", 1)


def test_an_action_with_the_current_version_moves_the_event(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report()
    r = accept(cast, e)
    assert r.status_code == 200, r.json()
    answer = r.json()
    assert (answer["state"], answer["version"]) == ("accepted", 2)
    assert [a["transition"] for a in answer["timeline"]] == ["report", "accept"]
    assert answer["timeline"][-1]["actor"] == cast.town.username
    assert {t["name"] for t in answer["available"]} >= {"dispatch", "escalate"}


def test_a_stale_version_is_a_409_with_the_current_event(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report()
    assert accept(cast, e).status_code == 200
    before = EventAction.objects.filter(event=e).count()
    r = client_for(cast.town).post(
        f"{EVENTS}{e.code}/actions/",
        {"transition": "reject", "version": 1, "data": {"reason": "重复"}},
        format="json",
    )
    assert r.status_code == 409
    assert r.json()["event"]["state"] == "accepted"
    assert r.json()["event"]["version"] == 2
    e.refresh_from_db()
    assert (e.state, e.version) == ("accepted", 2)
    assert EventAction.objects.filter(event=e).count() == before


@pytest.mark.parametrize("who", ["grid_worker", "citizen", "county"])
def test_a_wrong_role_is_a_403_and_changes_nothing(
    cast: Cast, report: Callable[..., Event], who: str
) -> None:
    """A grid worker, the reporter, or the county (not the handling level) cannot accept."""
    e = report()
    r = client_for(getattr(cast, who)).post(
        f"{EVENTS}{e.code}/actions/",
        {"transition": "accept", "version": 1},
        format="json",
    )
    assert r.status_code == 403, r.json()
    assert "detail" in r.json()
    e.refresh_from_db()
    assert (e.state, e.version, e.actions.count()) == ("reported", 1, 1)


def test_a_missing_field_is_a_400_naming_it(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report()
    r = client_for(cast.town).post(
        f"{EVENTS}{e.code}/actions/",
        {"transition": "reject", "version": 1, "data": {"reason": ""}},
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["field"] == "reason"
    e.refresh_from_db()
    assert (e.state, e.version, e.actions.count()) == ("reported", 1, 1)


@pytest.mark.parametrize(
    "payload",
    [
        {"transition": "accept"},  # no version
        {"transition": "accept", "version": 0},
        {"transition": "accept", "version": "one"},
        {"version": 1},  # no transition
        {"transition": "accept", "version": 1, "data": "reason"},
    ],
)
def test_a_malformed_action_is_a_400(
    cast: Cast, report: Callable[..., Event], payload: dict[str, Any]
) -> None:
    e = report()
    r = client_for(cast.town).post(f"{EVENTS}{e.code}/actions/", payload, format="json")
    assert r.status_code == 400
    e.refresh_from_db()
    assert (e.state, e.version) == ("reported", 1)


def test_an_unknown_step_is_a_400(cast: Cast, report: Callable[..., Event]) -> None:
    e = report()
    r = client_for(cast.town).post(
        f"{EVENTS}{e.code}/actions/",
        {"transition": "fly_away", "version": 1},
        format="json",
    )
    assert r.status_code == 400 and r.json()["field"] == "transition"


@pytest.mark.parametrize(
    "co",
    [
        pytest.param("x", id="text"),
        pytest.param("market", id="scalar-id"),
    ],
)
def test_a_malformed_co_department_list_is_a_400(
    cast: Cast, report: Callable[..., Event], co: str
) -> None:
    """Departments come from the request body: a scalar where a list is expected is
    bad input, not a server error."""
    e = report(matter=cast.big)
    assert accept(cast, e).status_code == 200
    r = client_for(cast.town).post(
        f"{EVENTS}{e.code}/actions/",
        {
            "transition": "dispatch",
            "version": 2,
            "data": {
                "lead_department": cast.urban_dept.pk,
                "co_departments": cast.market_dept.pk if co == "market" else co,
            },
        },
        format="json",
    )
    assert r.status_code == 400, r.status_code
    e.refresh_from_db()
    assert (e.state, e.version) == ("accepted", 2)


def test_routing_proposes_matters_to_staff_only(cast: Cast) -> None:
    r = client_for(cast.town).get(f"{EVENTS}routing/", {"text": "有人燃气泄漏"})
    assert r.status_code == 200
    assert r.json()[0]["matter"] == cast.big.code
    assert client_for(cast.town).get(f"{EVENTS}routing/").status_code == 400
    assert (
        client_for(cast.citizen).get(f"{EVENTS}routing/", {"text": "x"}).status_code
        == 403
    )


# --- public report and tracking -----------------------------------------------------


def test_public_report_needs_no_account_and_returns_no_personal_data(
    cast: Cast,
) -> None:
    r = APIClient().post(
        PUBLIC, body(cast, reporter_name="张三", source="hotline"), format="json"
    )
    assert r.status_code == 201, r.json()
    answer = r.json()
    assert set(answer) == {"code", "tracking_token", "state", "state_label"}
    assert PHONE not in r.content.decode() and "张" not in r.content.decode()
    event = Event.objects.get(code=answer["code"])
    assert event.reporter is None and event.source == Source.CITIZEN_WEB
    assert event.reporter_phone == PHONE  # kept, encrypted, for the staff


def test_public_tracking_needs_the_token(cast: Cast) -> None:
    answer = APIClient().post(PUBLIC, body(cast), format="json").json()
    code, token = answer["code"], answer["tracking_token"]
    track = APIClient().get(f"{PUBLIC}{code}/", {"token": token})
    assert track.status_code == 200
    progress = track.json()
    assert progress["code"] == code and progress["state"] == "reported"
    assert [s["state_label"] for s in progress["timeline"]] == ["待受理"]
    assert PHONE not in track.content.decode()
    assert "reporter_phone" not in progress
    wrong = ("y" if token[0] == "x" else "x") + token[1:]  # one character off
    for bad in ({"token": wrong}, {"token": ""}, {}):
        assert APIClient().get(f"{PUBLIC}{code}/", bad).status_code == 404
    assert (
        APIClient().get(f"{PUBLIC}3703-19990101-0001/", {"token": token}).status_code
        == 404
    )


def test_public_tracking_follows_the_loop(
    cast: Cast, report: Callable[..., Event]
) -> None:
    answer = APIClient().post(PUBLIC, body(cast), format="json").json()
    event = Event.objects.get(code=answer["code"])
    assert accept(cast, event).status_code == 200
    progress = APIClient().get(
        f"{PUBLIC}{event.code}/", {"token": answer["tracking_token"]}
    )
    assert progress.json()["state"] == "accepted"
    assert [s["step"] for s in progress.json()["timeline"]] == ["上报", "受理"]


def test_public_report_is_throttled(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its rate the public endpoint answers 429 (and writes nothing more).

    DRF reads the rates into ``ScopedRateThrottle.THROTTLE_RATES`` once, at import:
    overriding settings.REST_FRAMEWORK afterwards changes nothing, so the class
    attribute is patched; the counts are cleared around each test."""
    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {**ScopedRateThrottle.THROTTLE_RATES, "public_report": "2/min"},
    )
    client = APIClient()
    assert client.post(PUBLIC, body(cast), format="json").status_code == 201
    assert client.post(PUBLIC, body(cast), format="json").status_code == 201
    before = Event.objects.count()
    r = client.post(PUBLIC, body(cast), format="json")
    assert r.status_code == 429
    assert "Retry-After" in r.headers
    assert Event.objects.count() == before
    # Signed-in reports go through the staff endpoint, which this rate does not touch.
    assert post_json(client_for(cast.citizen), body(cast)).status_code == 201
