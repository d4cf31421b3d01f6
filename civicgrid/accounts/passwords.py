"""Password rules (Django AUTH_PASSWORD_VALIDATORS) and password age.

At least 8 characters (Django's MinimumLengthValidator) from at least 3 of the 4
classes (lower case, upper case, digits, other), at most 64 characters, not on the
offline blocklist (Django's CommonPasswordValidator: 20,000 common passwords shipped
with Django), and changed every ``CIVICGRID_PASSWORD_MAX_AGE_DAYS`` days.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters appear."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_few_classes")

    def get_help_text(self) -> str:
        return _(
            "Your password must mix at least %(n)d of: lower-case letters, "
            "upper-case letters, digits and other characters."
        ) % {"n": self.min_classes}


class MaximumLengthValidator:
    def __init__(self, max_length: int = 64) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(self.get_help_text(), code="password_too_long")

    def get_help_text(self) -> str:
        return ngettext(
            "Your password may have at most %(n)d character.",
            "Your password may have at most %(n)d characters.",
            self.max_length,
        ) % {"n": self.max_length}


def password_expired(user: Any) -> bool:
    """The password is older than the maximum age (0 days: passwords never expire)."""
    days = settings.CIVICGRID_PASSWORD_MAX_AGE_DAYS
    if not days or not user.has_usable_password():
        return False
    changed = user.password_changed_at
    return changed is None or timezone.now() - changed > timedelta(days=days)
