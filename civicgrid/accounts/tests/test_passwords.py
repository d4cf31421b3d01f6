"""Password rules: 8-64 characters, 3 of 4 classes, the offline blocklist, and
expiry after 90 days forcing a change (pages redirect, the API answers 403)."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts import services
from civicgrid.accounts.models import Role, User
from civicgrid.accounts.tests.conftest import sign_in
from civicgrid.conftest import PASSWORD


def codes(password: str) -> set[str]:
    try:
        validate_password(password, User(username="zhang.san"))
    except ValidationError as e:
        return {err.code for err in e.error_list if err.code}
    return set()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab#1234", "password_too_short"),  # 7 characters
        ("abcdefgh12", "password_too_few_classes"),  # 2 classes
        ("ABCDEFGH!!", "password_too_few_classes"),
        ("P@ssw0rd", "password_too_common"),  # 4 classes, on the blocklist
        ("woaini1314", "password_too_common"),
        ("Aa1#" * 16 + "x", "password_too_long"),  # 65 characters
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    assert code in codes(password)


@pytest.mark.parametrize(
    "password", ["Qiu#Shui8", "grid-Work7er", "Aa1#" * 16, "山东Tai-shan2026"]
)
def test_good_passwords_pass(password: str) -> None:
    assert codes(password) == set()


def test_services_refuse_weak_passwords(db: Any) -> None:
    with pytest.raises(ValidationError):
        services.user_create(actor=None, username="weak", password="12345678")
    assert not User.objects.filter(username="weak").exists()


def test_an_expired_password_must_be_changed(make_staff: Any) -> None:
    user = make_staff("old_pw", Role.LEADER, region="370303")
    with time_machine.travel(timezone.now() + timedelta(days=91), tick=False):
        client, response = sign_in("old_pw")
        assert response.status_code == 302
        page = client.get(reverse("workbench:queue"))
        assert page.status_code == 302
        assert page["Location"].startswith(reverse("accounts:password_change"))
        api = client.get("/api/v1/me/")
        assert api.status_code == 403
        assert api.json()["code"] == "password_expired"
        # The new password follows the rules too.
        form = client.post(
            reverse("accounts:password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "password",
                "new_password2": "password",
            },
        )
        assert form.status_code == 200
        changed = client.post(
            reverse("accounts:password_change") + "?next=/workbench/",
            {
                "old_password": PASSWORD,
                "new_password1": "Neu#Passw0rt",
                "new_password2": "Neu#Passw0rt",
            },
        )
        assert changed.status_code == 302 and changed["Location"] == "/workbench/"
        assert client.get(reverse("workbench:queue")).status_code == 200
        assert client.get("/api/v1/me/").status_code == 200
    user.refresh_from_db()
    assert user.check_password("Neu#Passw0rt")


def test_a_password_is_fresh_for_ninety_days(make_staff: Any) -> None:
    make_staff("fresh_pw", Role.LEADER, region="370303")
    with time_machine.travel(timezone.now() + timedelta(days=89), tick=False):
        client, _ = sign_in("fresh_pw")
        assert client.get(reverse("workbench:queue")).status_code == 200
