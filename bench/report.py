"""Benchmark: the Data Quality and Insights report on the 1,000,000-row table of `flow.py`.

Runs what the report job runs (`sageforge.data.insights.run.run`: read every
row, exact statistics, duplicates, correlations and leakage on 100,000 sampled
rows, the XGBoost quick model on 50,000, anomalies on 20,000, then report.json
and the HTML page) in a fresh process, timed from before the read to the last
byte written — the imports of XGBoost and scikit-learn the report needs are
inside the time, as they are in a job.

    .venv/bin/python bench/report.py [--rows N]

Ends with `RESULT report_wall_s <s>` (target: under 15 s on 2 cores). Exits 0
whatever the result.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def child(data: Path, out: Path) -> None:
    import polars  # noqa: F401

    from sageforge.data.insights.run import run

    started = time.perf_counter()
    report = run(data, out, target="target", title="bench")
    wall = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    html = (out / "report.html").stat().st_size
    print(
        json.dumps(
            {
                "wall_s": wall,
                "peak_rss_mb": rss,
                "timings": report["timings_s"],
                "html_bytes": html,
                "warnings": len(report["warnings"]),
            }
        )
    )  # type: ignore[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.data, args.out)
        return 0
    try:
        from _tables import table

        data = table(args.rows)
        out = Path(tempfile.mkdtemp(prefix="bench-report-"))
        print(
            f"table: {args.rows:,} rows, {data.stat().st_size / 1e6:.0f} MB CSV; {os.cpu_count()} cores"
        )
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", "--data", str(data), "--out", str(out)],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            shutil.rmtree(out, ignore_errors=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"phases (s): {result['timings']}")
        print(
            f"{result['warnings']} warnings, HTML {result['html_bytes'] / 1e6:.1f} MB, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB"
        )
        print(f"RESULT report_wall_s {result['wall_s']:.2f}")
    except Exception:
        traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
