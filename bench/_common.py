"""What the benchmark scripts share: the repository root on ``sys.path`` (for
``civicgrid``), a flushed log line, a median timing, and the results written as
``bench/results/<name>-[<tag>-]<YYYYMMDD-HHMMSS>.json`` and ``<name>-latest.txt``."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(msg: str = "") -> None:
    print(msg, flush=True)


def timed(fn: Callable[[], Any], repeats: int = 5) -> float:
    """The median wall time of ``repeats`` calls of ``fn``, in seconds."""
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def write_results(name: str, report: dict[str, Any], tag: str = "") -> Path:
    """The report as JSON, stamped, and again as ``<name>-latest.txt``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(report, indent=1, ensure_ascii=False)
    path = RESULTS_DIR / f"{name}-{tag + '-' if tag else ''}{stamp}.json"
    path.write_text(text)
    (RESULTS_DIR / f"{name}-latest.txt").write_text(text)
    log(f"written: bench/results/{path.name}")
    return path
