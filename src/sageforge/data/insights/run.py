"""`python -m sageforge.data.insights.run`: the insights report job's command.

Reads the table (all rows, or a first/random sample), builds the report and
writes `report.json` and `report.html` to `--output`; a processing job
uploads them. Failures end in one line on stderr that becomes the job's
failure reason.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sageforge.core.errors import SageforgeError


def run(
    data: Path,
    output: Path,
    *,
    target: str | None = None,
    problem_type: str | None = None,
    read_options: dict[str, object] | None = None,
    sample: int | None = None,
    sample_method: str = "first",
    title: str | None = None,
    source: str | None = None,
) -> dict[str, object]:
    """Build and write the report; returns the report dict."""
    from sageforge.data.insights import build_report, render_html
    from sageforge.data.io import ReadOptions, count_rows, read_table

    options = ReadOptions.model_validate(read_options or {})
    started = time.perf_counter()
    table = read_table(data, options, limit=sample, sample=sample_method)  # type: ignore[arg-type]
    total = count_rows(data, options) if sample is not None else table.height
    print(
        f"read {table.height:,} of {total:,} rows in {time.perf_counter() - started:.2f} s",
        flush=True,
    )
    report = build_report(
        table, target=target, problem=problem_type, title=title, source=source, rows_total=total
    )
    output.mkdir(parents=True, exist_ok=True)
    (output / "report.json").write_text(json.dumps(report, indent=1, default=str))
    (output / "report.html").write_text(render_html(report), encoding="utf-8")
    for w in report["warnings"]:  # type: ignore[union-attr]
        print(f"[{w['severity']}] {w['message']}", flush=True)
    print(f"report written in {time.perf_counter() - started:.2f} s", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sageforge.data.insights.run")
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--target")
    parser.add_argument("--problem-type", choices=["binary", "multiclass", "regression"])
    parser.add_argument("--read-options", default="{}", help="ReadOptions as JSON")
    parser.add_argument("--sample", type=int)
    parser.add_argument("--sample-method", choices=["first", "random"], default="first")
    parser.add_argument("--title")
    parser.add_argument("--source")
    args = parser.parse_args(argv)
    try:
        run(
            args.data,
            args.output,
            target=args.target,
            problem_type=args.problem_type,
            read_options=json.loads(args.read_options),
            sample=args.sample,
            sample_method=args.sample_method,
            title=args.title,
            source=args.source,
        )
    except SageforgeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
