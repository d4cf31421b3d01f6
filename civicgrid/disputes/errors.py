"""Errors of the disputes domain. They extend the events errors so both APIs answer
alike: DisputeError 400 with its reason (and field), NotPermitted 403, StaleVersion 409."""

from civicgrid.events.errors import EventError, NotPermitted, StaleVersion

__all__ = ["DisputeError", "NotPermitted", "StaleVersion"]


class DisputeError(EventError):
    """Bad input, or a step the case's workflow or rules do not allow (400)."""
