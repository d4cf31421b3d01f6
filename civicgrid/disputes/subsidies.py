"""Per-case subsidies (枣庄 个案奖补): an amount within the case's difficulty grade
(600–1,500 yuan by default), "one case, one decision" (一案一议) above it for major
cases, payable only for closed and verified cases, within the annual budget; and the
ledger as an Excel workbook."""

from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from civicgrid.core.audit import audit_record
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import Case, Subsidy, SubsidyBudget, SubsidyGrade

DEFAULT_BUDGET = Decimal("1500000.00")
# Used when a city has configured no grades of its own.
DEFAULT_GRADES = [
    ("simple", "简易", 600, 600),
    ("ordinary", "一般", 600, 900),
    ("complex", "复杂", 900, 1200),
    ("difficult", "疑难", 1200, 1500),
]


def grades_for(city_code: str) -> QuerySet[SubsidyGrade]:
    """The city's grades, else the default ones (created once)."""
    own = SubsidyGrade.objects.filter(city_code=city_code)
    if own.exists():
        return own
    for code, label, low, high in DEFAULT_GRADES:
        SubsidyGrade.objects.get_or_create(
            city_code="",
            code=code,
            defaults={"label": label, "amount_min": low, "amount_max": high},
        )
    return SubsidyGrade.objects.filter(city_code="")


def budget_for(city_code: str, year: int) -> Decimal:
    row = SubsidyBudget.objects.filter(city_code=city_code, year=year).first()
    return row.amount if row else DEFAULT_BUDGET


def committed(city_code: str, year: int) -> Decimal:
    total = Subsidy.objects.filter(city_code=city_code, year=year).aggregate(
        s=Sum("amount")
    )["s"]
    return total or Decimal(0)


def subsidy_grant(
    *,
    actor: Any,
    case: Case,
    amount: Decimal | str | int,
    grade: str = "",
    major_decision: str = "",
) -> Subsidy:
    """Grant the subsidy of a case to its mediator; refused with the reason when the
    case is not closed and verified, the amount lies outside its grade (and no
    major-case decision is cited), or the year's budget would be exceeded."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise DisputeError(_("The amount must be a number."), field="amount") from None
    if value <= 0:
        raise DisputeError(_("The amount must be positive."), field="amount")
    year = timezone.localdate().year
    with transaction.atomic():
        # The budget row serialises grants of one city and year.
        budget_row, _created = SubsidyBudget.objects.select_for_update().get_or_create(
            city_code=case.city_code, year=year, defaults={"amount": DEFAULT_BUDGET}
        )
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.verified_at is None or case.closed_at is None:
            raise DisputeError(
                _("Only a closed and verified case may be subsidised."), field="case"
            )
        if case.mediator is None:
            raise DisputeError(_("The case had no mediator."), field="case")
        if Subsidy.objects.filter(case=case).exists():
            raise DisputeError(_("This case is already subsidised."), field="case")
        grade_row = grades_for(case.city_code).filter(code=grade).first()
        if major_decision.strip():
            if len(major_decision) > 100:
                raise DisputeError(
                    _("The decision reference is too long."), field="major_decision"
                )
        elif grade_row is None:
            raise DisputeError(
                _("Choose a difficulty grade, or cite the decision for a major case."),
                field="grade",
            )
        elif not grade_row.amount_min <= value <= grade_row.amount_max:
            raise DisputeError(
                _(
                    "Grade %(grade)s allows %(low)s to %(high)s yuan; a larger amount "
                    "needs a major-case decision (一案一议)."
                )
                % {
                    "grade": grade_row.label,
                    "low": grade_row.amount_min,
                    "high": grade_row.amount_max,
                },
                field="amount",
            )
        spent = committed(case.city_code, year)
        if spent + value > budget_row.amount:
            raise DisputeError(
                _("The %(year)d budget has %(left)s yuan left; %(amount)s is too much.")
                % {"year": year, "left": budget_row.amount - spent, "amount": value},
                field="amount",
            )
        sub = Subsidy.objects.create(
            case=case,
            mediator=case.mediator,
            city_code=case.city_code,
            region_code=case.region_code,
            year=year,
            grade=grade_row,
            amount=value,
            major_decision=major_decision.strip(),
            granted_by=actor,
        )
        audit_record(
            actor=actor,
            action="disputes.subsidy.grant",
            obj=case,
            changes={"subsidy": [None, str(value)], "grade": [None, grade or "major"]},
        )
    return sub


MAX_BUDGET = Decimal("1e11")


def budget_set(
    *, actor: Any, city_code: str, year: int, amount: Decimal | str | int
) -> SubsidyBudget:
    """Set a city's annual subsidy budget: a positive amount, never below what is
    granted against it already (checked under the row's lock, as grants are)."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise DisputeError(_("The amount must be a number."), field="amount") from None
    if not Decimal(0) < value < MAX_BUDGET:
        raise DisputeError(_("The budget must be a positive amount."), field="amount")
    with transaction.atomic():
        row, created = SubsidyBudget.objects.select_for_update().get_or_create(
            city_code=city_code, year=year, defaults={"amount": value}
        )
        granted = committed(city_code, year)
        if value < granted:
            raise DisputeError(
                _("The budget cannot be less than what is granted (%(granted)s yuan).")
                % {"granted": granted},
                field="amount",
            )
        before = None if created else str(row.amount)
        row.amount = value
        row.save(update_fields=["amount"])
        audit_record(
            actor=actor,
            action="disputes.subsidy.budget",
            object_type="disputes.subsidybudget",
            object_id=str(row.pk),
            region_code=city_code,
            changes={"amount": [before, str(value)]},
        )
    return row


def ledger_xlsx(subsidies: QuerySet[Subsidy], *, city_code: str, year: int) -> bytes:
    """The year's ledger: one row per subsidy, the total, the budget and what is left."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{year}"
    header = [
        "案件编号",
        "案件",
        "区划",
        "调解员",
        "难度等级",
        "一案一议",
        "金额（元）",
        "发放时间",
    ]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    total = Decimal(0)
    for s in subsidies.select_related("case", "mediator", "grade").order_by(
        "granted_at"
    ):
        total += s.amount
        ws.append(
            [
                s.case.code,
                s.case.title,
                s.region_code,
                s.mediator.name,
                s.grade.label if s.grade else "",
                s.major_decision,
                float(s.amount),
                timezone.localtime(s.granted_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    budget = budget_for(city_code, year)
    ws.append([])
    ws.append(["合计", "", "", "", "", "", float(total)])
    ws.append(["年度预算", "", "", "", "", "", float(budget)])
    ws.append(["结余", "", "", "", "", "", float(budget - total)])
    for col, width in zip("ABCDEFGH", (22, 30, 14, 12, 10, 16, 12, 18), strict=True):
        ws.column_dimensions[col].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
