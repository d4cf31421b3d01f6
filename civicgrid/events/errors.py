"""Errors of the events domain; the API turns each into a 4xx with its reason."""

from typing import Any

# The same Idempotency-Key with a different request (422); shared by every service.
from civicgrid.core.idempotency import IdempotencyConflict as IdempotencyConflict


class EventError(ValueError):
    """Bad input or a step the workflow does not allow (400)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class NotPermitted(PermissionError):
    """The actor's role or scope does not allow this step (403)."""


class StaleVersion(Exception):
    """Someone acted on the event first (409); carries the current event."""

    def __init__(self, event: Any) -> None:
        self.event = event
        super().__init__(f"event {event.code} is at version {event.version}")


class OutsideGrids(EventError):
    """The reported point lies in no grid (400, the reason says so)."""
