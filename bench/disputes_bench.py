"""Dispute-resolution benchmark: ``.venv/bin/python bench/disputes_bench.py [--n 1000]``.

A temporary SQLite database with the real Shandong division tree (as
``locate_bench.py``). SYNTHETIC data, fixed seed: a pool of mediators and experts in
淄博 (random specialties, served areas at village, town or county level) and N cases
spread over 淄博's villages, their parties drawn from a set of persons small enough that
repeated disputes between the same parties occur. Measured through the product's
services (each a median over the runs):

(a) intake: registering a case (code, two parties encrypted with their blind index,
    risk grading with the repeated-parties look-up, timeline, audit);
(b) the steps of a case from diversion to verification (6 steps), per step;
(c) ranking the pool for a case (``suggest_mediators``), and its query count;
(d) the statistics over every case (``case_stats``), by county and month;
(e) the Excel subsidy ledger of every verified case;
(f) the overdue scan (``overdue_scan``) over every open case: when none is due
    (one query), and when all are past their limit (each warned and notified once);
(g) the consultation follow-up scan (``follow_up_scan``), every open case on its
    town's agenda, the follow-up assigned to its county's 住建局 (a department with
    two staff), every fourth recorded done: before the due day (one query), and
    after it (each open one warned once, the done ones skipped).

Results: ``bench/results/disputes-<YYYYMMDD-HHMMSS>.json`` and ``disputes-latest.txt``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from locate_bench import setup_django  # noqa: E402
from peace_bench import machine_info  # noqa: E402

SEED = 20261130
CITY = "3703"
TYPES = [
    "marriage_family",
    "neighbours",
    "land_housing",
    "labour_wages",
    "property_management",
    "medical",
    "traffic_accident",
    "consumer",
    "contract_debt",
    "environmental",
    "other",
]


def ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "median_ms": round(1000 * statistics.median(values), 3),
        "p95_ms": round(1000 * values[int(0.95 * (len(values) - 1))], 3),
        "n": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000, help="cases")
    parser.add_argument("--pool", type=int, default=2000, help="mediators and experts")
    parser.add_argument("--walk", type=int, default=200, help="cases walked to the end")
    args = parser.parse_args()
    rng = random.Random(SEED)
    out: dict[str, Any] = {"machine": machine_info(), "args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="disputes-bench-") as tmp:
        setup_django(Path(tmp))
        from django.core.management import call_command
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from civicgrid.accounts import services as accounts
        from civicgrid.accounts.models import Role
        from civicgrid.disputes import engine, matching, selectors, services
        from civicgrid.disputes.models import Case, Mediator
        from civicgrid.disputes.subsidies import ledger_xlsx, subsidy_grant
        from civicgrid.disputes.tests.factories import id_number
        from civicgrid.regions.divisions import import_divisions
        from civicgrid.regions.models import Region

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        import_divisions(
            ROOT.parent / "shared" / "data" / "admin_divisions_shandong", province="37"
        )
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        villages = list(
            Region.objects.filter(
                region_code__startswith=CITY, level="village"
            ).values_list("region_code", flat=True)
        )
        towns = sorted({v[:9] for v in villages})
        counties = sorted({v[:6] for v in villages})
        root = accounts.user_create(
            actor=None, username="bench", password=None, is_superuser=True
        )
        pool_users = []
        for i in range(args.pool):
            home = rng.choice(
                [rng.choice(villages), rng.choice(towns), rng.choice(counties)]
            )
            user = None
            if i < 50:
                user = accounts.user_create(actor=None, username=f"m{i}", password=None)
                accounts.staff_post_create(
                    actor=None, user=user, role=Role.MEDIATOR,
                    region=Region.objects.get(region_code=home[:9] if len(home) > 9 else home),
                )  # fmt: skip
            pool_users.append(
                services.mediator_create(
                    actor=None,
                    name=f"调解员{i}",
                    kind=rng.choice(["mediator", "expert"]),
                    regions=[home],
                    specialties=rng.sample(TYPES, 2),
                    user=user,
                    max_load=10_000,
                )  # fmt: skip
            )
        persons = [id_number(i, born=f"19{50 + i % 50}0101") for i in range(80)]

        # (a) intake
        intake: list[float] = []
        cases: list[Case] = []
        for _ in range(args.n):
            a, b = rng.sample(persons, 2)
            t = time.perf_counter()
            case = services.case_intake(
                actor=root, source="walk_in", region_code=rng.choice(villages),
                level="town", dispute_type=rng.choice(TYPES), title="相邻纠纷",
                narrative="双方因通道发生争执", amount=rng.choice([0, 5000, 200_000]),
                violence_threatened=rng.random() < 0.05,
                parties=[{"name": "甲", "id_number": a}, {"name": "乙", "id_number": b}],
            )  # fmt: skip
            intake.append(time.perf_counter() - t)
            cases.append(case)
        out["a_intake"] = ms(intake)
        out["a_intake"]["cases_per_s"] = round(len(intake) / sum(intake), 1)
        out["repeated_party_cases"] = Case.objects.filter(
            risk_factors__icontains="repeated_parties"
        ).count()

        # (b) the steps to verification
        def act(case: Case, name: str, **data: Any) -> Case:
            case.refresh_from_db(fields=["version"])
            return engine.case_act(
                actor=root,
                case_id=case.pk,
                transition=name,
                version=case.version,
                data=data,
            )

        per_step: list[float] = []
        today = timezone.localdate().isoformat()
        held = (timezone.now() - timedelta(hours=1)).isoformat()
        for case in cases[: args.walk]:
            m = rng.choice(pool_users)
            for name, data in (
                ("divert", {"channel": "peoples_mediation"}),
                ("assign", {"mediator": m.pk}),
                (
                    "record_session",
                    {
                        "held_at": held,
                        "place": "中心",
                        "participants": "双方",
                        "minutes": "调解",
                    },
                ),
                ("agree", {"terms": "赔偿", "signed_on": today, "perform_by": today}),
                ("follow_up", {"kept": "yes"}),
                ("verify", {}),
            ):
                t = time.perf_counter()
                act(case, name, **data)
                per_step.append(time.perf_counter() - t)
        out["b_step"] = ms(per_step)

        # (c) ranking the pool
        rank: list[float] = []
        queries: list[int] = []
        for case in cases[args.walk : args.walk + 100]:
            reset_queries()  # DEBUG keeps a bounded log: start each capture empty
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as q:
                result = matching.suggest_mediators(case)
            rank.append(time.perf_counter() - t)
            queries.append(len(q))
            assert result["suggested"]
        out["c_rank"] = ms(rank)
        out["c_rank"]["queries_max"] = max(queries)
        out["c_rank"]["pool"] = Mediator.objects.count()

        # (d) statistics
        stats: list[float] = []
        for _ in range(10):
            t = time.perf_counter()
            figures = selectors.case_stats(Case.objects.all(), area_digits=6)
            stats.append(time.perf_counter() - t)
        out["d_stats"] = ms(stats)
        out["d_stats"]["cases"] = figures["cases"]

        # (e) the ledger
        from civicgrid.disputes.models import Subsidy

        for case in cases[: args.walk]:
            subsidy_grant(actor=root, case=case, amount=600, grade="simple")
        t = time.perf_counter()
        content = ledger_xlsx(
            Subsidy.objects.all(), city_code=CITY, year=timezone.localdate().year
        )
        out["e_ledger"] = {
            "rows": Subsidy.objects.count(),
            "ms": round(1000 * (time.perf_counter() - t), 1),
            "bytes": len(content),
        }
        # (f) the overdue scan over every open case: nothing due, then all due
        from civicgrid.disputes.models import CaseWarning
        from civicgrid.disputes.overdue import overdue_scan

        open_cases = Case.objects.exclude(state="verified").count()
        for label, now in (
            ("f_overdue_quiet", timezone.now()),
            ("f_overdue_all_red", timezone.now() + timedelta(hours=80)),
        ):
            reset_queries()
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as q:
                counts = overdue_scan(now)
            out[label] = {
                "open_cases": open_cases,
                "ms": round(1000 * (time.perf_counter() - t), 1),
                "queries": len(q),
                "warned": counts,
            }
        out["f_overdue_all_red"]["recorded"] = CaseWarning.objects.count()
        # (g) consultation follow-ups: every open case on its town's agenda, the
        # follow-up due tomorrow; scanned before (none due) and after the day
        from civicgrid.accounts import services as accounts_services
        from civicgrid.disputes.consultations import consultation_open
        from civicgrid.disputes.models import ConsultationItem
        from civicgrid.disputes.overdue import follow_up_scan

        on_day = timezone.localdate()
        sessions: dict[str, Any] = {}
        units: dict[str, Any] = {}  # each county's 住建局 with two staff
        items = []
        for i, case in enumerate(Case.objects.exclude(state="verified").order_by("id")):
            town, county = case.region_code[:9], case.region_code[:6]
            if town not in sessions:
                sessions[town] = consultation_open(
                    actor=root,
                    region=Region.objects.get(region_code=town),
                    held_on=on_day,
                    attendees=["政法委", "住建局"],
                )
            if county not in units:
                region = Region.objects.get(region_code=county)
                units[county] = accounts_services.department_create(
                    actor=None,
                    name=f"{region.name}住建局",
                    kind="housing",
                    region=region,
                )
                for k in range(2):
                    clerk = accounts_services.user_create(
                        actor=None, username=f"zj{county}{k}", password=None
                    )
                    accounts_services.staff_post_create(
                        actor=None,
                        user=clerk,
                        role="department_staff",
                        department=units[county],
                    )
            # every fourth follow-up recorded as done: the scan skips it
            done = timezone.now() if i % 4 == 3 else None
            items.append(
                ConsultationItem(
                    consultation=sessions[town],
                    case=case,
                    decision="牵头化解",
                    follow_up_department=units[county],
                    follow_up_unit=units[county].name,
                    follow_up_due=on_day + timedelta(days=1),
                    follow_up_done_at=done,
                    follow_up_note="已办结" if done else "",
                )
            )
        ConsultationItem.objects.bulk_create(items)
        for label, now in (
            ("g_follow_up_quiet", timezone.now()),
            ("g_follow_up_all_due", timezone.now() + timedelta(days=3)),
        ):
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as q:
                warned = follow_up_scan(now)
            out[label] = {
                "follow_ups": len(items),
                "done": sum(1 for x in items if x.follow_up_done_at),
                "consultations": len(sessions),
                "ms": round(1000 * (time.perf_counter() - t), 1),
                "queries": len(q),
                "warned": warned,
            }
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"disputes-{stamp}.json").write_text(
        json.dumps(out, indent=2, ensure_ascii=False)
    )
    text = json.dumps(
        {k: v for k, v in out.items() if k != "machine"}, ensure_ascii=False, indent=1
    )
    (RESULTS_DIR / "disputes-latest.txt").write_text(text + "\n")
    print(text)
    print(f"written bench/results/disputes-{stamp}.json")


if __name__ == "__main__":
    main()
