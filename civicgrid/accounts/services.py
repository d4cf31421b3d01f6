"""Writes to users, departments and staff posts, each audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from civicgrid.accounts.models import Department, Level, Role, StaffPost, User
from civicgrid.core.audit import audit_record


def user_create(
    *,
    actor: Any,
    username: str,
    password: str | None,
    display_name: str = "",
    phone: str = "",
    is_superuser: bool = False,
) -> User:
    with transaction.atomic():
        user = User(
            username=username,
            display_name=display_name,
            phone=phone,
            is_superuser=is_superuser,
            is_staff=is_superuser,
        )
        if password:
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


def department_create(*, actor: Any, name: str, kind: str, region: Any) -> Department:
    with transaction.atomic():
        dept = Department.objects.create(
            name=name,
            kind=kind,
            level=region.level,
            region=region,
            region_code=region.region_code,
            city_code=region.city_code,
        )
        audit_record(
            actor=actor,
            action="department.create",
            obj=dept,
            changes={"name": [None, name], "kind": [None, kind]},
        )
    return dept


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
    # A user's cached scope must not outlive a change of posts.
    user.__dict__.pop("scope_prefixes", None)
    user.__dict__.pop("roles", None)
    return post
