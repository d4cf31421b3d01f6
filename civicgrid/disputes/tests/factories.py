"""Test data helpers importable from other apps' tests (the scope matrix)."""

from typing import Any

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(n: int, born: str = "19800101") -> str:
    """A GB 11643 ID number of 张店区 with a valid check character."""
    body = f"370303{born}{n % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _W, strict=True))
    return body + "10X98765432"[total % 11]


def parties(a: int = 1, b: int = 2, **extra: Any) -> list[dict[str, Any]]:
    """Two persons: an applicant (with a phone number) and a respondent."""
    return [
        {"name": "张三", "id_number": id_number(a), "phone": "13812345678", **extra},
        {"name": "李四", "id_number": id_number(b), "side": "respondent"},
    ]
