"""The event cast (users, departments, matters of 张店区) for the page tests here."""

from civicgrid.events.tests.conftest import cast, report

__all__ = ["cast", "report"]
