"""Region scoping: a scope is a region-code prefix, and a user holds a set of them."""

from collections.abc import Iterable

from django.db.models import Q

ALL = ""  # the empty prefix: every region (superusers)


def prefixes_q(prefixes: Iterable[str], field: str = "region_code") -> Q:
    """Rows whose ``field`` starts with any of the prefixes; nothing when there are none."""
    q = Q(pk__in=[])
    for prefix in prefixes:
        if prefix == ALL:
            # A real always-true condition: an empty Q() would vanish when OR-ed.
            return Q(pk__isnull=False)
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def covers(prefixes: Iterable[str], code: str) -> bool:
    return any(code.startswith(p) for p in prefixes)


def minimal(prefixes: Iterable[str]) -> list[str]:
    """Drop prefixes already covered by a shorter one."""
    out: list[str] = []
    for p in sorted(set(prefixes), key=len):
        if not covers(out, p):
            out.append(p)
    return sorted(out)
