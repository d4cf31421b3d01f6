"""Template helpers of the registry: whether to show a user the households link."""

from typing import Any

from django import template

from civicgrid.registry.selectors import may_read_registry

register = template.Library()


@register.filter
def may_see_households(user: Any) -> bool:
    """True if the user may open the workbench's households pages."""
    return may_read_registry(user)
