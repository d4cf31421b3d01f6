"""Template helpers of the exchange: whether to show a user the bulk page's link."""

from typing import Any

from django import template

from civicgrid.exchange.bulk import kinds_for

register = template.Library()


@register.filter
def may_bulk(user: Any) -> bool:
    """True if the user may handle at least one kind of bulk data."""
    return bool(getattr(user, "is_authenticated", False) and kinds_for(user))
