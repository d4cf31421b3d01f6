"""Sessions in the database: idle timeout 30 minutes, absolute lifetime 12 hours,
both enforced on the server; signing out deletes the session row."""

from datetime import datetime, timedelta
from typing import Any

import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse

from civicgrid.accounts.models import Role
from civicgrid.accounts.tests.conftest import sign_in

START = datetime(2026, 3, 2, 0, 30, tzinfo=datetime.now().astimezone().tzinfo)


def queue_status(client: Any) -> int:
    return int(client.get(reverse("workbench:queue")).status_code)


def test_an_idle_session_ends_after_thirty_minutes(make_staff: Any) -> None:
    make_staff("idle", Role.LEADER, region="370303")
    with time_machine.travel(START, tick=False) as clock:
        client, _ = sign_in("idle")
        key = client.session.session_key
        clock.shift(timedelta(minutes=29))
        assert queue_status(client) == 200  # activity restarts the idle clock
        clock.shift(timedelta(minutes=29))
        assert queue_status(client) == 200
        clock.shift(timedelta(minutes=31))
        assert queue_status(client) == 302  # back to the sign-in page
        assert not Session.objects.filter(session_key=key).exists()


def test_an_active_session_ends_after_twelve_hours(make_staff: Any) -> None:
    make_staff("busy", Role.LEADER, region="370303")
    with time_machine.travel(START, tick=False) as clock:
        client, _ = sign_in("busy")
        for _ in range(35):  # every 20 minutes for 11 hours 40
            clock.shift(timedelta(minutes=20))
            assert queue_status(client) == 200
        clock.shift(timedelta(minutes=25))  # 12 h 05: busy, but too long
        assert queue_status(client) == 302
        api = client.get("/api/v1/me/")
        assert api.status_code == 403


def test_signing_out_deletes_the_session_row(make_staff: Any) -> None:
    make_staff("bye", Role.LEADER, region="370303")
    client, _ = sign_in("bye")
    key = str(client.session.session_key)
    assert Session.objects.filter(session_key=key).exists()
    assert client.post(reverse("workbench:logout")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie is worth nothing any more.
    client.cookies["sessionid"] = key
    assert queue_status(client) == 302
