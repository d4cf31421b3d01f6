"""Reading an uploaded workflow definition file: JSON, or YAML (safe loader only),
chosen by the file's name. Unreadable files raise DefinitionError, with the line."""

import json
from typing import Any

import yaml
from django.core.files.uploadedfile import UploadedFile

from civicgrid.events.workflow import DefinitionError

MAX_BYTES = 1_000_000  # a definition is a few kilobytes


def read_definition_file(upload: UploadedFile) -> dict[str, Any]:
    if (upload.size or 0) > MAX_BYTES:
        raise DefinitionError([f"(file): larger than {MAX_BYTES} bytes"])
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DefinitionError([f"(file): not UTF-8 text ({exc.reason})"]) from None
    name = (upload.name or "").lower()
    try:
        if name.endswith((".yaml", ".yml")):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [
                f"(file): invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([f"(file): invalid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise DefinitionError(["(root): the file must hold one object (a mapping)"])
    return data
