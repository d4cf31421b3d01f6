"""Writes to users, departments and staff posts, each audited."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Level, Role, StaffPost, User
from civicgrid.accounts.permissions import (
    ADMIN_ROLES,
    CONFIGURE,
    MANAGE_ACCOUNTS,
    check_role_combination,
    require,
)
from civicgrid.core.audit import audit_record


def _forget_rights(user: User) -> None:
    """A user's cached scope, roles and permissions must not outlive a change."""
    for attr in ("scope_prefixes", "roles", "_role_perm_cache"):
        user.__dict__.pop(attr, None)


def _sync_admin_flag(user: User) -> None:
    """The back office (is_staff) is open to superusers and the three administrators."""
    _forget_rights(user)
    is_staff = user.is_superuser or bool(user.roles & ADMIN_ROLES)
    if user.is_staff != is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=is_staff)
        user.is_staff = is_staff


def _check_post_change(actor: Any, user: User, role: str) -> None:
    """Only the security administrator (or the system itself) assigns roles, never
    to themselves, and never two administrator roles to one person."""
    require(actor, MANAGE_ACCOUNTS)
    if actor is not None and actor.pk == user.pk and not actor.is_superuser:
        raise PermissionDenied(_("Nobody may change their own roles."))
    others = set(user.posts.filter(active=True).values_list("role", flat=True))
    check_role_combination(others | {role})


def user_create(
    *,
    actor: Any,
    username: str,
    password: str | None,
    display_name: str = "",
    phone: str = "",
    is_superuser: bool = False,
) -> User:
    require(actor, MANAGE_ACCOUNTS)
    if is_superuser and actor is not None:
        raise PermissionDenied(_("Superusers are created only from the command line."))
    with transaction.atomic():
        user = User(
            username=username,
            display_name=display_name,
            phone=phone,
            is_superuser=is_superuser,
            is_staff=is_superuser,
        )
        if password:
            validate_password(password, user)
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            changes={"username": [None, username], "superuser": [None, is_superuser]},
        )
    return user


def _changes(obj: Model, wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The wanted values (None: leave it) that differ from the object's, as
    {field: (old, new)}."""
    return {
        k: (getattr(obj, k), v)
        for k, v in wanted.items()
        if v is not None and getattr(obj, k) != v
    }


def _save_changes(
    obj: Model, changed: Mapping[str, tuple[Any, Any]], exclude: list[str] | None = None
) -> None:
    """Set the changed fields, checked as on creation (full_clean; the object is
    left as it was when they are refused), and save only those."""
    for k, (_old, new) in changed.items():
        setattr(obj, k, new)
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError:
        for k, (old, _new) in changed.items():
            setattr(obj, k, old)
        raise
    obj.save(update_fields=list(changed))


def user_update(
    *,
    actor: Any,
    user: User,
    display_name: str | None = None,
    phone: str | None = None,
    is_active: bool | None = None,
) -> tuple[User, list[str]]:
    """Change a user's name, phone or whether the account is active (None: leave
    it), checked as on creation; returns the user and the fields that changed.
    Superusers are changed only from the command line; nobody deactivates their
    own account. The audit names the changed fields, never the phone or the name."""
    require(actor, MANAGE_ACCOUNTS)
    if user.is_superuser and actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Superusers are changed only from the command line."))
    changed = _changes(
        user, {"display_name": display_name, "phone": phone, "is_active": is_active}
    )
    if not changed:
        return user, []
    if "is_active" in changed and actor is not None and actor.pk == user.pk:
        raise PermissionDenied(_("Nobody may deactivate their own account."))
    with transaction.atomic():
        _save_changes(user, changed, exclude=["password"])
        audit_record(
            actor=actor,
            action="user.update",
            obj=user,
            changes={
                k: list(pair) if k == "is_active" else "changed"
                for k, pair in changed.items()
            },
        )
        _forget_rights(user)
    return user, list(changed)


def user_password_set(*, actor: Any, user: User, password: str) -> User:
    """A new password, checked against the password rules; the user's own change or
    a security administrator's reset."""
    if actor is None or actor.pk != user.pk:
        require(actor, MANAGE_ACCOUNTS)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password", "password_changed_at"])
        audit_record(
            actor=actor,
            action="user.password_change" if actor == user else "user.password_reset",
            obj=user,
        )
    return user


def department_create(*, actor: Any, name: str, kind: str, region: Any) -> Department:
    require(actor, CONFIGURE)
    with transaction.atomic():
        dept = Department(
            name=name,
            kind=kind,
            level=region.level,
            region=region,
            region_code=region.region_code,
            city_code=region.city_code,
        )
        dept.full_clean()
        dept.save()
        audit_record(
            actor=actor,
            action="department.create",
            obj=dept,
            changes={"name": [None, name], "kind": [None, kind]},
        )
    return dept


def department_update(
    *,
    actor: Any,
    department: Department,
    name: str | None = None,
    kind: str | None = None,
) -> tuple[Department, list[str]]:
    """Rename a department or change its kind (None: leave it), checked as on
    creation (a kind of the list, a name unique in its region); its region stays.
    Returns the department and the fields that changed, audited old and new."""
    require(actor, CONFIGURE)
    changed = _changes(department, {"name": name, "kind": kind})
    if not changed:
        return department, []
    with transaction.atomic():
        _save_changes(department, changed)
        audit_record(
            actor=actor,
            action="department.update",
            obj=department,
            changes={k: list(pair) for k, pair in changed.items()},
        )
    return department, list(changed)


def staff_post_scope(
    *, region: Any, department: Department | None, grid: Any
) -> tuple[Any, str]:
    """The region a post sits in and its scope prefix: the grid's code, else the
    department's region, else the region."""
    if grid is not None:
        return grid.village, grid.code
    if department is not None:
        return department.region, department.region_code
    if region is not None:
        return region, region.region_code
    raise ValidationError("a post needs a region, department or grid")


def staff_post_save_from_admin(*, actor: Any, post: StaffPost) -> StaffPost:
    """Save a post edited in the back office, its scope derived, with an audit record."""
    _check_post_change(actor, post.user, post.role)
    region, scope = staff_post_scope(
        region=post.region if post.region_id else None,
        department=post.department,
        grid=post.grid,
    )
    post.region, post.region_code, post.city_code = region, scope, scope[:4]
    with transaction.atomic():
        created = post.pk is None
        post.save()
        audit_record(
            actor=actor,
            action="staff_post.create" if created else "staff_post.update",
            obj=post,
            changes={
                "role": [None, post.role],
                "scope": [None, scope],
                "active": [None, post.active],
            },
        )
        _sync_admin_flag(post.user)
    return post


def staff_post_create(
    *,
    actor: Any,
    user: User,
    role: str,
    region: Any = None,
    department: Department | None = None,
    grid: Any = None,
) -> StaffPost:
    """Bind a user to a region, department or grid with a role. The post's scope is
    the grid's code, else the department's region, else the region."""
    if role not in Role.values or role == Role.CITIZEN:
        raise ValidationError(f"{role!r} is not a staff role")
    if role == Role.DEPARTMENT_STAFF and department is None:
        raise ValidationError("department staff need a department")
    _check_post_change(actor, user, role)
    region, scope = staff_post_scope(region=region, department=department, grid=grid)
    if region.level == Level.VILLAGE and role in (Role.LEADER,):
        raise ValidationError("leaders are posted at town level or above")
    with transaction.atomic():
        post = StaffPost.objects.create(
            user=user,
            role=role,
            region=region,
            department=department,
            grid=grid,
            region_code=scope,
            city_code=scope[:4],
        )
        audit_record(
            actor=actor,
            action="staff_post.create",
            obj=post,
            changes={
                "user": [None, user.username],
                "role": [None, role],
                "scope": [None, scope],
            },
        )
        _sync_admin_flag(user)
    return post


def staff_post_delete(*, actor: Any, post: StaffPost) -> None:
    _check_post_change(actor, post.user, post.role)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="staff_post.delete",
            obj=post,
            changes={"role": [post.role, None], "scope": [post.region_code, None]},
        )
        post.delete()
        _sync_admin_flag(post.user)


def login_lockout_clear(*, actor: Any, attempts: Any) -> int:
    """Unlock: forget the failed sign-ins (django-axes' AccessAttempt rows) given."""
    require(actor, MANAGE_ACCOUNTS)
    with transaction.atomic():
        rows = list(attempts)
        for attempt in rows:
            audit_record(
                actor=actor,
                action="login.unlock",
                object_type="axes.accessattempt",
                object_id=str(attempt.pk),
                changes={"username": [attempt.username, None]},
            )
            attempt.delete()
    return len(rows)


def otp_device_confirm(*, actor: User, device: Any) -> None:
    """The user proved a code from a new authenticator: the device counts from now."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(
            actor=actor,
            action="otp.enrol",
            object_type="otp_totp.totpdevice",
            object_id=str(device.pk),
        )
