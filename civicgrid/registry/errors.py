"""Errors of the registry domain; the API turns each into a 4xx with its reason."""

from typing import Any

# The same Idempotency-Key with a different request (422); shared by every service.
from civicgrid.core.idempotency import IdempotencyConflict as IdempotencyConflict


class RegistryError(ValueError):
    """Bad input (400), naming the field when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class OutsideScope(PermissionError):
    """The household or grid lies outside the actor's regions (404 in the API)."""


class StaleHousehold(Exception):
    """The household changed since the copy the edit was made on (409)."""

    def __init__(self, household: Any) -> None:
        self.household = household
        super().__init__(f"household {household.pk} is at version {household.version}")
