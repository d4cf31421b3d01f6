"""Reading uploaded tables: numbered rows of a CSV (UTF-8) or Excel file, and the
heading row mapped to the columns an import knows (English or Chinese names).
Used by the imports of incident counts (peace_index) and of households (registry)."""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def _rows_from_csv(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = content.decode("utf-8-sig")
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)


def _rows_from_xlsx(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    sheet = book.worksheets[0]
    for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield line, list(row)
    book.close()


def read_table(content: bytes, file_name: str) -> Iterator[tuple[int, list[Any]]]:
    """Numbered rows of a CSV (UTF-8) or .xlsx file, the heading row included."""
    if file_name.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
        return _rows_from_xlsx(content)
    return _rows_from_csv(content)


def header_columns(
    header: Iterable[Any], columns: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    """{column key: its position} for each key of ``columns`` whose accepted names
    (lower case) the heading has; the first matching heading wins."""
    names = [str(h or "").strip().lower() for h in header]
    out = {}
    for key, accepted in columns.items():
        for i, name in enumerate(names):
            if name in accepted:
                out[key] = i
                break
    return out
