"""Notifications: the in-app inbox, and pluggable senders (SMS, WeChat) that default
to a log line. Messages name events by code, never personal data."""

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from civicgrid.accounts.models import Department, Role, User
from civicgrid.events.models import Event, Notification

logger = logging.getLogger("civicgrid.notify")


class Sender(Protocol):
    def send(self, user: User, text: str) -> None: ...


class LogSender:
    """The default sender: one log line per message, with the user's id only."""

    def send(self, user: User, text: str) -> None:
        logger.info("notify user=%s: %s", user.pk, text)


@lru_cache(maxsize=1)
def senders() -> list[Sender]:
    paths = getattr(
        settings, "CIVICGRID_NOTIFY_SENDERS", ["civicgrid.events.notify.LogSender"]
    )
    return [import_string(p)() for p in paths]


def notify(users: Iterable[Any], text: str, event: Event | None = None) -> int:
    """Put a message in each user's inbox and hand it to the senders after commit."""
    unique = {u.pk: u for u in users if u is not None}
    Notification.objects.bulk_create(
        [Notification(user=u, event=event, text=text[:500]) for u in unique.values()]
    )

    def deliver() -> None:
        for u in unique.values():
            for s in senders():
                s.send(u, text)

    transaction.on_commit(deliver)
    return len(unique)


def department_staff(departments: Iterable[Department]) -> list[User]:
    ids = [d.pk for d in departments]
    return list(
        User.objects.filter(
            posts__department_id__in=ids,
            posts__role=Role.DEPARTMENT_STAFF,
            posts__active=True,
        ).distinct()
    )


def area_centers(event: Event) -> list[User]:
    """Center staff whose scope holds the event at its handling level."""
    from civicgrid.events.engine import CENTER_PREFIX

    prefix = event.region_code[: CENTER_PREFIX[event.level]]  # type: ignore[index]
    return list(
        User.objects.filter(
            posts__role=Role.CENTER_STAFF, posts__active=True, posts__region_code=prefix
        ).distinct()
    )


def reporters(event: Event) -> list[User]:
    """The reporter, and the reporters of the duplicates merged into it."""
    users = [event.reporter] if event.reporter else []
    users += [
        d.reporter for d in event.duplicates.select_related("reporter") if d.reporter
    ]
    return users
