"""The event cast (users of 张店区, a grid of 车站街道) and a household factory."""

from collections.abc import Callable
from typing import Any

import pytest

from civicgrid.events.tests.conftest import Cast, cast, report
from civicgrid.registry.models import Household
from civicgrid.registry.services import household_collect

__all__ = ["cast", "report"]

# Valid GB 11643 numbers of 张店区 (370303); the last one's check digit is wrong.
ID_A = "370303195001011230"
ID_B = "370303198002020028"
ID_CHILD = "370303201003030046"
ID_BAD = "370303195001011231"


@pytest.fixture
def household(cast: Cast) -> Callable[..., Household]:
    def make(address: str = "幸福小区3号楼2单元301", **kwargs: Any) -> Household:
        collection, _ = household_collect(
            actor=kwargs.pop("actor", cast.grid_worker),
            grid=kwargs.pop("grid", cast.grid),
            fields={"address": address, **kwargs.pop("fields", {})},
            persons=kwargs.pop("persons", []),
        )
        return collection.household

    return make
