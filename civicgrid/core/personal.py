"""Personal data as a field type: encrypted at rest, masked on output.

``PersonalDataField`` stores an SM4-GCM ciphertext and hands Python code the plaintext;
anything shown to a person goes through ``mask`` unless the viewer may unmask it.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core import crypto


class PersonalKind(models.TextChoices):
    PHONE = "phone", _("phone number")
    ID_NUMBER = "id_number", _("ID number")
    ADDRESS = "address", _("address")
    NAME = "name", _("personal name")
    TEXT = "text", _("other personal data")


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_is_valid(value: str) -> bool:
    """GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check character."""
    v = value.strip().upper()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == v[17]


def mask(value: str | None, kind: str) -> str:
    """The default on-screen form: 138****5678, 110***********1234, 济南市历下区***."""
    if not value:
        return ""
    if kind == PersonalKind.PHONE:
        return (
            value[:3] + "*" * max(len(value) - 7, 0) + value[-4:]
            if len(value) > 7
            else "*" * len(value)
        )
    if kind == PersonalKind.ID_NUMBER:
        return (
            value[:3] + "*" * (len(value) - 7) + value[-4:]
            if len(value) > 7
            else "*" * len(value)
        )
    if kind == PersonalKind.NAME:
        return value[0] + "*" * (len(value) - 1)
    if kind == PersonalKind.ADDRESS:
        keep = min(6, len(value) // 2)
        return value[:keep] + "***"
    return "***"


class PersonalDataField(models.TextField):
    """A text field whose value is encrypted at rest with SM4-GCM."""

    description = "Personal data (SM4-GCM encrypted)"

    def __init__(
        self, *args: Any, kind: str = PersonalKind.TEXT, **kwargs: Any
    ) -> None:
        self.kind = kind
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def validate(self, value: Any, model_instance: Any) -> None:
        super().validate(value, model_instance)
        if (
            value
            and self.kind == PersonalKind.ID_NUMBER
            and not id_number_is_valid(value)
        ):
            raise ValidationError(_("Invalid ID number (GB 11643 check digit)."))

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return value
        return crypto.decrypt(value)


class BlindIndexField(models.CharField):
    """The HMAC-SM3 blind index of a PersonalDataField of the same model, kept up to
    date on save: ``phone_index = BlindIndexField(source="phone")``; look rows up with
    ``Model.objects.filter(blind_match("phone_index", "13812345678"))``."""

    description = "Blind index (HMAC-SM3) of a personal-data field"

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.source)
        index = crypto.blind_index(str(value)) if value else ""
        setattr(model_instance, self.attname, index)
        return index


def blind_match(index_field: str, value: str) -> models.Q:
    """Exact lookup on a blind index: no plaintext in the query or the database."""
    return models.Q(**{index_field: crypto.blind_index(value) if value else "-"})
