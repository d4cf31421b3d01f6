"""Printing import reports from management commands."""

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.reports import ImportRejected, ImportReport


def print_report(cmd: BaseCommand, report: ImportReport) -> None:
    cmd.stdout.write(
        f"created {report.created}, updated {report.updated}, skipped {report.skipped}"
    )
    for note in report.notes:
        cmd.stdout.write(f"note: {note}")
    for err in report.errors:
        cmd.stderr.write(f"error: {err}")


def rejected(cmd: BaseCommand, exc: ImportRejected) -> CommandError:
    for err in exc.report.errors:
        cmd.stderr.write(f"error: {err}")
    return CommandError(f"{len(exc.report.errors)} bad rows; nothing was imported")
