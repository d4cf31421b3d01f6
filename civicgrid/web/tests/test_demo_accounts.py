"""The demo's printed accounts: each signs in with its printed password, holds its
role, and the passwords meet the production password rules."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.test import RequestFactory

from civicgrid.accounts.models import Role, User
from civicgrid.web.demo import ACCOUNTS, create_accounts

pytestmark = pytest.mark.django_db


def test_every_demo_account_signs_in_with_its_role() -> None:
    create_accounts()
    for acc in ACCOUNTS:
        validate_password(acc.password)
        request = RequestFactory().post("/workbench/login/")
        user = authenticate(request, username=acc.username, password=acc.password)
        assert isinstance(user, User), acc.username
        roles = set(user.posts.filter(active=True).values_list("role", flat=True))
        assert roles == (set() if acc.role == Role.CITIZEN else {acc.role}), acc


def test_the_three_administrators_are_three_people() -> None:
    """三员分立: the demo shows a system admin, a security admin and an auditor."""
    create_accounts()
    holders = {
        role: set(
            User.objects.filter(posts__role=role, posts__active=True).values_list(
                "username", flat=True
            )
        )
        for role in (Role.SYSADMIN, Role.SECURITY_ADMIN, Role.AUDITOR)
    }
    assert holders == {
        Role.SYSADMIN: {"admin"},
        Role.SECURITY_ADMIN: {"security_admin"},
        Role.AUDITOR: {"auditor"},
    }
