"""What the audit log records besides services: sign-ins (failed ones for unknown
usernames too), sign-outs, refusals (403 from the API and pages), admin edits and
group/permission changes."""

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.test import Client, RequestFactory

from civicgrid.accounts import services as accounts
from civicgrid.conftest import PASSWORD
from civicgrid.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def latest(action: str) -> AuditRecord:
    return AuditRecord.objects.filter(action=action).order_by("-id").first()  # type: ignore[return-value]


def test_failed_sign_in_of_an_unknown_user_is_logged_without_the_password() -> None:
    before = AuditRecord.objects.count()
    request = RequestFactory().post("/", REMOTE_ADDR="10.9.8.7")
    assert authenticate(request, username="nobody-here", password="S3cret#pw") is None
    rec = latest("auth.login_failed")
    assert AuditRecord.objects.count() > before and rec is not None
    assert rec.actor is None and rec.actor_label == "nobody-here"
    assert rec.changes == {"known_user": False}
    assert "S3cret" not in str(rec.changes)


def test_failed_sign_in_of_a_known_user_names_the_account() -> None:
    user = accounts.user_create(actor=None, username="known1", password=PASSWORD)
    request = RequestFactory().post("/", REMOTE_ADDR="10.9.8.7")
    assert authenticate(request, username="known1", password="wrong#Pass1") is None
    rec = latest("auth.login_failed")
    assert (rec.actor_label, rec.object_id, rec.changes["known_user"]) == (
        "known1",
        str(user.pk),
        True,
    )


def test_sign_in_and_out_are_logged() -> None:
    user = accounts.user_create(actor=None, username="known2", password=PASSWORD)
    client = Client()
    client.force_login(user)
    assert latest("auth.login").actor_id == user.pk
    client.logout()
    rec = latest("auth.logout")
    assert rec is not None and rec.actor_id == user.pk


@pytest.mark.parametrize(
    ("who", "url"),
    [("anonymous", "/api/v1/events/"), ("citizen", "/api/v1/grids/import/")],
)
def test_refusals_are_logged(callers: Any, who: str, url: str) -> None:
    """A 403 from the API leaves a row with the path (never the query string)."""
    caller = callers[who]
    r = caller.client.post(url + "?phone=13812345678", {}, format="json")
    assert r.status_code in (401, 403)
    rec = latest("access.denied")
    assert rec.object_id == url and rec.changes["status"] == r.status_code
    assert rec.actor_id == (caller.user.pk if caller.user else None)
    assert "13812345678" not in str(rec.changes)


def test_group_and_permission_changes_are_logged() -> None:
    user = accounts.user_create(actor=None, username="known3", password=PASSWORD)
    group = Group.objects.create(name="值班审计组")
    perm = Permission.objects.get(codename="unmask_personal_data")
    group.permissions.add(perm)
    user.groups.add(group)
    user.user_permissions.add(perm)
    actions = list(
        AuditRecord.objects.filter(action__startswith="role.")
        .order_by("id")
        .values_list("action", "object_id")
    )
    assert actions[-4:] == [
        ("role.group_create", str(group.pk)),
        ("role.group_permissions_add", str(group.pk)),
        ("role.user_groups_add", str(user.pk)),
        ("role.user_permissions_add", str(user.pk)),
    ]


def test_admin_edits_are_logged(callers: Any) -> None:
    """Edits through the admin bypass services; its LogEntry is mirrored."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    root = callers["superuser"].user
    LogEntry.objects.create(
        user=root,
        content_type=ContentType.objects.get_for_model(Group),
        object_id="7",
        object_repr="g",
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["name"]}}]',
    )
    rec = latest("admin.change")
    assert (rec.actor_id, rec.object_type, rec.object_id) == (
        root.pk,
        "auth.group",
        "7",
    )


def test_an_addition_through_the_admin_is_logged(callers: Any) -> None:
    """The admin's own LogEntry for an addition carries the new object's pk as an
    int: the mirror must take it (it failed every admin addition with a 500)."""
    from django.test import Client

    client = Client()
    client.force_login(callers["superuser"].user)
    r = client.post("/admin/auth/group/add/", {"name": "审计测试组"})
    assert r.status_code == 302, r.status_code
    group = Group.objects.get(name="审计测试组")
    rec = latest("admin.add")
    assert (rec.object_type, rec.object_id) == ("auth.group", str(group.pk))


def test_a_refusal_with_a_nul_in_the_path_is_logged_not_a_500(callers: Any) -> None:
    """PostgreSQL refuses NUL in text: found by the fuzzer as 500s for anonymous."""
    r = callers["anonymous"].client.get("/api/v1/events/a\x00b/")
    assert r.status_code in (401, 403)
    rec = latest("access.denied")
    assert rec.object_id == "/api/v1/events/a\ufffdb/"
