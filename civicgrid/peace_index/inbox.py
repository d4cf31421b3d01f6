"""Notices of the peace index: kept per area (``Notice``, the center's inbox of the
index) and put in the in-app inbox of the staff of the area's governance center
(``civicgrid.events.notify``), which also hands them to the pluggable senders."""

from collections.abc import Sequence
from typing import NamedTuple

from django.utils import timezone

from civicgrid.accounts.models import Role, StaffPost, User
from civicgrid.core.scope import prefixes_q
from civicgrid.events.notify import notify
from civicgrid.peace_index.bulk import insert_rows
from civicgrid.peace_index.models import Notice
from civicgrid.regions.models import Region


def _up(prefix: str) -> str:
    for n in (9, 6, 4, 2):
        if len(prefix) > n:
            return prefix[:n]
    return ""


def center_staff(city_codes: Sequence[str]) -> dict[str, list[User]]:
    """Active center staff of the cities, by the prefix of their post."""
    out: dict[str, list[User]] = {}
    posts = StaffPost.objects.filter(
        prefixes_q(city_codes), role=Role.CENTER_STAFF, active=True
    ).select_related("user")
    for post in posts.order_by("region_code", "user_id"):
        out.setdefault(post.region_code, []).append(post.user)
    return out


def center_of(prefix: str, staff: dict[str, list[User]]) -> list[User]:
    """The staff of the nearest center at or above ``prefix`` (a village has no
    center: its town's answers; a town without staff: its county's, and so on)."""
    while prefix:
        if staff.get(prefix):
            return staff[prefix]
        prefix = _up(prefix)
    return []


def escalation_target(region_code: str, levels: int) -> str:
    """The prefix ``levels`` steps above the area, never above its city."""
    target = region_code
    for _i in range(levels):
        if len(target) <= 4:
            break
        target = _up(target)
    return target


NOTICE_FIELDS = (
    "kind",
    "region_code",
    "city_code",
    "month",
    "title",
    "body",
    "report",
    "created_at",
)


class NoticeDraft(NamedTuple):
    """A notice to keep, lighter than an unsaved ``Notice`` (a month's warnings of
    a province are thousands)."""

    kind: str
    region_code: str
    city_code: str
    month: str
    title: str
    body: str
    report_id: int | None = None


def notices_send(
    notices: Sequence[Notice | NoticeDraft],
) -> Sequence[Notice | NoticeDraft]:
    """Keep the notices (in bulk: a month's warnings of a province are thousands)
    and put each in the inbox of its area's center staff."""
    now = timezone.now()
    insert_rows(
        Notice,
        NOTICE_FIELDS,
        (
            (n.kind, n.region_code, n.city_code, n.month, n.title, n.body, n.report_id)
            + (now,)
            for n in notices
        ),
    )
    created = notices
    cities = sorted({n.city_code for n in created if n.city_code})
    staff = center_staff(cities)
    if not staff:  # no center staff in these cities: nobody's inbox to fill
        return created
    codes = {n.region_code for n in created}
    names = dict(
        Region.objects.filter(region_code__in=codes).values_list("region_code", "name")
    )
    centers = {code: center_of(code, staff) for code in codes}
    for n in created:
        users = centers[n.region_code]
        if users:
            to = names.get(n.region_code, n.region_code)
            head = n.title if to in n.title else f"[{to}] {n.title}"
            notify(users, head + (f" {n.body}" if n.body else ""))
    return created
