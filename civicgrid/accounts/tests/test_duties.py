"""Separation of duties (三员分立): the system administrator configures, the security
administrator manages accounts and roles, the auditor reads the audit log; none can
do another's work, in the services and in the admin."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from civicgrid.accounts import services
from civicgrid.accounts.models import Role, User
from civicgrid.conftest import PASSWORD
from civicgrid.regions.models import Grid, Region


@pytest.fixture
def three(make_staff: Any) -> dict[str, User]:
    return {
        "sysadmin": make_staff("sys", Role.SYSADMIN, region="3703"),
        "security": make_staff("sec", Role.SECURITY_ADMIN, region="3703"),
        "auditor": make_staff("aud", Role.AUDITOR, region="3703"),
    }


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_the_security_administrator_manages_accounts(
    three: dict[str, User],
) -> None:
    region = Region.objects.get(region_code="370303")
    user = services.user_create(
        actor=three["security"], username="new_staff", password=PASSWORD
    )
    services.staff_post_create(
        actor=three["security"], user=user, role=Role.LEADER, region=region
    )
    for other in ("sysadmin", "auditor"):
        with pytest.raises(PermissionDenied):
            services.user_create(
                actor=three[other], username=f"x_{other}", password=PASSWORD
            )
        with pytest.raises(PermissionDenied):
            services.staff_post_create(
                actor=three[other], user=user, role=Role.CENTER_STAFF, region=region
            )
        with pytest.raises(PermissionDenied):
            services.user_password_set(
                actor=three[other], user=user, password="Reset#Pass9"
            )
    # Nobody, the security administrator included, grants themselves a role.
    with pytest.raises(PermissionDenied):
        services.staff_post_create(
            actor=three["security"],
            user=three["security"],
            role=Role.AUDITOR,
            region=region,
        )
    # Nor makes superusers.
    with pytest.raises(PermissionDenied):
        services.user_create(
            actor=three["security"],
            username="god",
            password=PASSWORD,
            is_superuser=True,
        )


def test_one_person_never_holds_two_administrator_roles(
    three: dict[str, User],
) -> None:
    region = Region.objects.get(region_code="3703")
    for role in (Role.SECURITY_ADMIN, Role.AUDITOR):
        with pytest.raises(ValidationError):
            services.staff_post_create(
                actor=None, user=three["sysadmin"], role=role, region=region
            )


def test_only_the_system_administrator_configures(three: dict[str, User]) -> None:
    region = Region.objects.get(region_code="370303")
    services.department_create(
        actor=three["sysadmin"], name="张店区水利局", kind="water", region=region
    )
    for other in ("security", "auditor"):
        with pytest.raises(PermissionDenied):
            services.department_create(
                actor=three[other], name=f"{other}局", kind="water", region=region
            )
    grid = Grid.objects.order_by("code").first()
    assert grid is not None
    url = reverse("admin:regions_grid_change", args=[grid.pk])
    assert admin_client(three["sysadmin"]).get(url).status_code == 200
    assert admin_client(three["security"]).get(url).status_code == 403
    assert admin_client(three["auditor"]).get(url).status_code == 403
    dept = reverse("admin:accounts_department_add")
    assert admin_client(three["sysadmin"]).get(dept).status_code == 200
    assert admin_client(three["security"]).get(dept).status_code == 403


def test_only_the_auditor_reads_the_audit_log(three: dict[str, User]) -> None:
    url = reverse("admin:core_auditrecord_changelist")
    assert admin_client(three["auditor"]).get(url).status_code == 200
    assert admin_client(three["sysadmin"]).get(url).status_code == 403
    assert admin_client(three["security"]).get(url).status_code == 403


def test_in_the_admin_users_and_roles_are_the_security_administrators(
    three: dict[str, User],
) -> None:
    users = reverse("admin:accounts_user_changelist")
    posts = reverse("admin:accounts_staffpost_add")
    assert admin_client(three["security"]).get(users).status_code == 200
    assert admin_client(three["security"]).get(posts).status_code == 200
    for other in ("sysadmin", "auditor"):
        assert admin_client(three[other]).get(users).status_code == 403
        assert admin_client(three[other]).get(posts).status_code == 403
    # No per-user permissions or groups to hand out: rights come from roles.
    page = admin_client(three["security"]).get(
        reverse("admin:accounts_user_change", args=[three["auditor"].pk])
    )
    body = page.content.decode()
    assert 'name="user_permissions"' not in body and 'name="is_superuser"' not in body


def test_the_back_office_is_for_administrators(make_staff: Any) -> None:
    center = make_staff("center", Role.CENTER_STAFF, region="370303001")
    assert not center.is_staff
    response = admin_client(center).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_first_administrators_come_from_the_command_line(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from django.core.management import CommandError, call_command

    monkeypatch.setattr("sys.stdin", io.StringIO("Sec#Admin2026\n"))
    call_command(
        "create_administrator",
        "first_sec",
        "--role=security_admin",
        "--region=3703",
        "--password-stdin",
        stdout=io.StringIO(),
    )
    user = User.objects.get(username="first_sec")
    assert user.is_staff and not user.is_superuser and user.roles == {"security_admin"}
    assert user.has_perm("accounts.manage_accounts")
    monkeypatch.setattr("sys.stdin", io.StringIO("weakpass\n"))
    with pytest.raises(CommandError):
        call_command(
            "create_administrator",
            "second",
            "--role=auditor",
            "--region=3703",
            "--password-stdin",
            stdout=io.StringIO(),
        )
    assert not User.objects.filter(username="second").exists()
