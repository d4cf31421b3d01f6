"""Import reports: every bad row named with its file, line and reason."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    file: str
    line: int | str  # a line number, or a feature index / id for GeoJSON
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, file: str, line: int | str, reason: str) -> None:
        self.errors.append(RowError(file, line, reason))

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": [e.__dict__ for e in self.errors],
            "notes": self.notes,
        }


class ImportRejected(Exception):
    """Raised when bad rows stop an import; nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(f"{len(report.errors)} bad rows; nothing imported")
