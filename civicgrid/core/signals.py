"""Audit rows for what happens outside services: sign-ins (failed ones too, unknown
usernames included), sign-outs, admin edits, group and permission changes."""

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from civicgrid.core.audit import audit_record

ADMIN_ACTIONS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}


@receiver(user_logged_in, dispatch_uid="core.audit.login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="auth.login", obj=user)


@receiver(user_logged_out, dispatch_uid="core.audit.logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed, dispatch_uid="core.audit.login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    """The username tried is recorded (the password never is: Django masks it)."""
    User = get_user_model()
    username = str(
        credentials.get(User.USERNAME_FIELD) or credentials.get("username") or ""
    )
    known = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    audit_record(
        actor=None,
        actor_label=username or "?",
        action="auth.login_failed",
        obj=known,
        object_type="" if known else "accounts.user",
        changes={"known_user": known is not None},
    )


@receiver(post_save, sender=LogEntry, dispatch_uid="core.audit.admin")
def _admin_entry(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    ct = instance.content_type
    audit_record(
        actor=instance.user,
        action=ADMIN_ACTIONS.get(instance.action_flag, "admin.other"),
        object_type=f"{ct.app_label}.{ct.model}" if ct else "",
        # LogEntry.object_id comes back as the saved object's pk (an int) on the
        # instance the admin just created.
        object_id=str(instance.object_id or ""),
        changes={"message": instance.get_change_message()},
    )


@receiver(post_save, sender=Group, dispatch_uid="core.audit.group_save")
def _group_saved(sender: Any, instance: Group, created: bool, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        audit_record(
            actor=None,
            action="role.group_create" if created else "role.group_update",
            obj=instance,
            changes={"name": instance.name},
        )


@receiver(post_delete, sender=Group, dispatch_uid="core.audit.group_delete")
def _group_deleted(sender: Any, instance: Group, **kwargs: Any) -> None:
    audit_record(
        actor=None,
        action="role.group_delete",
        obj=instance,
        changes={"name": instance.name},
    )


def _m2m(kind: str) -> Any:
    def handler(
        sender: Any, instance: Any, action: str, pk_set: set[Any] | None, **kwargs: Any
    ) -> None:
        if action not in {"post_add", "post_remove", "post_clear"}:
            return
        audit_record(
            actor=None,
            action=f"role.{kind}_{action.removeprefix('post_')}",
            obj=instance,
            changes={"ids": sorted(str(pk) for pk in pk_set or ())},
        )

    return handler


_user_groups = _m2m("user_groups")
_user_perms = _m2m("user_permissions")
_group_perms = _m2m("group_permissions")


def connect_m2m() -> None:
    User = get_user_model()
    m2m_changed.connect(
        _user_groups, sender=User.groups.through, dispatch_uid="core.audit.ug"
    )
    m2m_changed.connect(
        _user_perms, sender=User.user_permissions.through, dispatch_uid="core.audit.up"
    )
    m2m_changed.connect(
        _group_perms, sender=Group.permissions.through, dispatch_uid="core.audit.gp"
    )
