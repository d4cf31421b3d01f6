"""Analysis reports as Word documents (tables and a trend chart), kept and
delivered to the center's inbox."""

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.peace_index.compute import _ranks
from civicgrid.peace_index.inbox import notices_send
from civicgrid.peace_index.models import (
    AreaResult,
    IndexKind,
    Notice,
    NoticeKind,
    Report,
    RunStatus,
)
from civicgrid.peace_index.selectors import area_history, explain
from civicgrid.regions.models import Region


def trend_png(months: Sequence[str], values: Sequence[float]) -> bytes:
    """A line chart of the index over the months (numbers only: no CJK font needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 2.8), dpi=110)
    ax.plot(range(len(values)), list(values), marker="o", color="#b71c1c")
    ax.set_xticks(range(len(months)), list(months))
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def _kind_name(kind: str) -> str:
    return _("Peace index") if kind == IndexKind.PEACE else _("Stability warning index")


ChildRow = tuple[str, float, str, str]  # name, index, rank, warned


def child_rows(children: Sequence[AreaResult]) -> list[ChildRow]:
    return [
        (
            c.region.name,
            c.index,
            f"{c.rank}/{c.rank_total}",
            _("yes") if c.warned else "",
        )
        for c in children
    ]


def quarter_assessment(
    qs: QuerySet[AreaResult], region: Region, months: Sequence[str]
) -> list[ChildRow]:
    """The areas directly below ``region`` over a quarter: the mean index of their
    months, ranked (competition ranks, highest first), and the months warned."""
    rows = list(
        qs.filter(parent_code=region.region_code, month__in=months)
        .order_by("region_code", "month")
        .values_list("region_code", "region__name", "index", "warned")
    )
    acc: dict[str, list[Any]] = {}
    for code, name, index, warned in rows:
        a = acc.setdefault(code, [name, [], 0])
        a[1].append(index)
        a[2] += int(warned)
    codes = sorted(acc)
    means = np.array([float(np.mean(acc[c][1])) for c in codes])
    ranks = _ranks(means) if len(codes) else np.array([], dtype=np.int64)
    out = [
        (
            acc[c][0],
            float(means[i]),
            f"{ranks[i]}/{len(codes)}",
            _("%(n)s of %(m)s months") % {"n": acc[c][2], "m": len(acc[c][1])}
            if acc[c][2]
            else "",
        )
        for i, c in enumerate(codes)
    ]
    return sorted(out, key=lambda r: (-round(r[1], 6), r[0]))


def build_docx(
    region: Region,
    results: Sequence[AreaResult],
    children: Sequence[ChildRow],
    quarter: str = "",
) -> bytes:
    """The report of ``results`` (one or more months, oldest first; the last one is
    the subject) with the sub-areas' table and the trend chart; for a quarter
    (``quarter`` = YYYY-Qn) the assessment: the quarter's mean index and the
    areas below ranked by theirs."""
    from docx import Document
    from docx.shared import Cm

    last = results[-1]
    kind = _kind_name(last.kind)
    period = last.month if len(results) == 1 else f"{results[0].month}–{last.month}"
    doc = Document()
    if quarter:
        doc.add_heading(
            _("%(area)s %(kind)s quarterly assessment report, %(period)s")
            % {"area": region.name, "kind": kind, "period": quarter},
            level=1,
        )
        doc.add_paragraph(
            _(
                "Over %(period)s the mean index of %(area)s is %(mean).1f "
                "(%(months)s months computed, %(warned)s warned)."
            )
            % {
                "period": quarter,
                "area": region.name,
                "mean": float(np.mean([r.index for r in results])),
                "months": len(results),
                "warned": sum(r.warned for r in results),
            }
        )
    else:
        doc.add_heading(
            _("%(area)s %(kind)s analysis report, %(period)s")
            % {"area": region.name, "kind": kind, "period": period},
            level=1,
        )
    doc.add_paragraph(
        _(
            "In %(month)s the index of %(area)s is %(index).1f (security value "
            "%(security).1f, governance value %(governance).1f), rank %(rank)s of "
            "%(total)s at its level; %(cases)s cases, %(rate).2f weighted cases per "
            "10,000 residents (stabilised)."
        )
        % {
            "month": last.month,
            "area": region.name,
            "index": last.index,
            "security": last.security,
            "governance": last.governance,
            "rank": last.rank,
            "total": last.rank_total,
            "cases": last.cases,
            "rate": last.eb_rate,
        }
    )
    if last.run.status != RunStatus.PUBLISHED:
        doc.add_paragraph(
            _("These figures are computed and not yet published (%(status)s).")
            % {"status": last.run.get_status_display()}
        )
    doc.add_heading(_("Figures by month"), level=2)
    head = [
        _("Month"),
        _("Index"),
        _("Security value"),
        _("Governance value"),
        _("Rank"),
        _("Cases"),
    ]
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = text
    for res in results:
        row = table.add_row().cells
        values = [
            res.month,
            f"{res.index:.1f}",
            f"{res.security:.1f}",
            f"{res.governance:.1f}",
            f"{res.rank}/{res.rank_total}",
            str(res.cases),
        ]
        for cell, text in zip(row, values, strict=True):
            cell.text = text
    doc.add_heading(_("Trend"), level=2)
    doc.add_picture(
        io.BytesIO(trend_png([r.month for r in results], [r.index for r in results])),
        width=Cm(15),
    )
    drivers = explain(last)
    if drivers:
        doc.add_heading(_("Items that pulled the index down"), level=2)
        dt = doc.add_table(rows=1, cols=4)
        dt.style = "Table Grid"
        for cell, text in zip(
            dt.rows[0].cells,
            [_("Item"), _("Cases"), _("Rate per 10,000"), _("Level rate")],
            strict=True,
        ):
            cell.text = text
        for d in drivers:
            row = dt.add_row().cells
            for cell, text in zip(
                row,
                [
                    d["name"],
                    str(d["count"]),
                    f"{d['eb_rate']:.2f}",
                    f"{d['level_rate']:.2f}",
                ],
                strict=True,
            ):
                cell.text = text
    if children:
        doc.add_heading(_("Areas below"), level=2)
        ct = doc.add_table(rows=1, cols=4)
        ct.style = "Table Grid"
        for cell, text in zip(
            ct.rows[0].cells,
            [
                _("Area"),
                _("Mean index of the quarter") if quarter else _("Index"),
                _("Rank"),
                _("Warned"),
            ],
            strict=True,
        ):
            cell.text = text
        for name, index, rank, warned in children:
            row = ct.add_row().cells
            for cell, text in zip(
                row, [name, f"{index:.1f}", rank, warned], strict=True
            ):
                cell.text = text
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def quarter_months(period: str) -> list[str]:
    """'2026-Q1' → ['2026-01', '2026-02', '2026-03']; [] for a bad quarter."""
    if not re.fullmatch(r"\d{4}-Q[1-4]", period):
        return []
    year, q = period[:4], int(period[-1])
    return [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


def report_deliver(
    *, actor: Any, kind: str, region: Region, period: str, published_only: bool = True
) -> Report:
    """Build the report of an area for a month (YYYY-MM: the 12 months up to it) or
    a quarter (YYYY-Qn), keep it and put it in the area's center's inbox."""
    qs = AreaResult.objects.filter(kind=kind).select_related("region")
    if published_only:
        qs = qs.filter(run__status=RunStatus.PUBLISHED)
    if "Q" in period:
        results = list(
            qs.filter(
                region_code=region.region_code, month__in=quarter_months(period)
            ).order_by("month")
        )
    else:
        results = area_history(qs, region.region_code, period)
    if not results or ("Q" not in period and results[-1].month != period):
        raise AreaResult.DoesNotExist(period)
    last = results[-1]
    if "Q" in period:
        children = quarter_assessment(qs, region, quarter_months(period))
        content = build_docx(region, results, children, quarter=period)
    else:
        children = child_rows(
            list(
                qs.filter(run=last.run, parent_code=region.region_code).order_by(
                    "rank", "region_code"
                )
            )
        )
        content = build_docx(region, results, children)
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind,
            region_code=region.region_code,
            city_code=region.city_code,
            period=period,
            file_name=f"{kind}-{region.region_code}-{period}.docx",
            content=content,
        )
        notices_send(
            [
                Notice(
                    kind=NoticeKind.REPORT,
                    region_code=region.region_code,
                    city_code=region.city_code,
                    month=last.month,
                    title=_("%(kind)s analysis report of %(area)s, %(period)s")
                    % {"kind": _kind_name(kind), "area": region.name, "period": period},
                    report=report,
                )
            ]
        )
        audit_record(
            actor=actor,
            action="peace_index.report_deliver",
            obj=report,
            changes={"period": [None, period], "bytes": [None, len(content)]},
        )
    return report
