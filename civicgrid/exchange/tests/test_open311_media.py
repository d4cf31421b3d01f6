"""media_url: an http(s) link is stored and given back as sent; other schemes are
refused in the errors shape; the server never fetches the link (a real local HTTP
server sees no request)."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from civicgrid.exchange import webhooks
from civicgrid.exchange.tests.conftest import O311, good_form

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture
def photo_host() -> Iterator[list[str]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hits.append(f"http://127.0.0.1:{server.server_port}")
    yield hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.cn/a.jpg", "x" * 10]
)
def test_only_http_links_are_taken(client: Client, o311: O311, bad: str) -> None:
    answer = client.post(f"{BASE}/requests.json", good_form(o311, media_url=bad))
    assert answer.status_code == 400
    assert "media_url" in answer.json()[0]["description"]


def test_the_link_is_kept_and_never_fetched(
    client: Client,
    o311: O311,
    photo_host: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = f"{photo_host[0]}/photos/1.jpg"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{BASE}/requests.json", good_form(o311, media_url=url))
    assert answer.status_code == 201, answer.content
    code = answer.json()[0]["service_request_id"]
    webhooks.deliver_due()  # the background work there is
    got = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert got["media_url"] == url
    assert photo_host[1:] == []  # nobody asked the photo host for anything
