"""The ``media_url`` of Open311 requests and updates: a link to the reporter's photo,
kept and given back as sent. The server never fetches it (a government intranet must
not be made to request addresses chosen by the public: SSRF), see docs/open311.md."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from civicgrid.exchange.open311_format import Open311Error

MEDIA_URL_MAX = 500
_media_url_check = URLValidator(schemes=["http", "https"])


def media_url_clean(value: str | None) -> str:
    """A reporter's photo link, stored and given back as sent, never fetched by the
    server (see docs/open311.md): an http(s) URL of at most 500 characters, so that
    no ``javascript:`` or ``file:`` link reaches a page that shows it."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        if len(value) > MEDIA_URL_MAX:
            raise ValidationError("too long")
        _media_url_check(value)
    except ValidationError:
        raise Open311Error(
            400, _("media_url must be an http or https URL of at most 500 characters")
        ) from None
    return value
