"""Every page template works under the Content-Security-Policy (scripts from our own
files only): no inline event handlers, no inline executable scripts."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = sorted(Path(settings.BASE_DIR, "civicgrid").glob("**/templates/**/*.html"))
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def inline_code(text: str) -> list[str]:
    found = [m.group(0)[:60] for m in HANDLER.finditer(text)]
    for m in SCRIPT.finditer(text):
        attrs = m.group(1)
        if "src=" not in attrs and "application/json" not in attrs:
            found.append(m.group(0))
    return found


def test_the_check_sees_inline_code() -> None:
    assert inline_code('<select onchange="this.form.submit()">')
    assert inline_code("<script>alert(1)</script>")
    assert not inline_code('<script src="/static/a.js"></script>')
    assert not inline_code('<script id="d" type="application/json">{}</script>')


def test_no_template_has_inline_code() -> None:
    assert len(TEMPLATES) > 20
    offenders = {
        str(p.relative_to(settings.BASE_DIR)): inline_code(p.read_text())
        for p in TEMPLATES
    }
    assert not {k: v for k, v in offenders.items() if v}
