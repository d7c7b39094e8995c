"""`python -m sageforge.data.flow.run`: the export job's command.

Reads every row of the source, fits the flow on the training rows (or, with
`--no-refit`, applies an already fitted flow), and writes each split to each
`--output` folder in its destination's format, with the fitted `flow.json`.
A processing job runs it; the job uploads the folders to the destinations.

Failures end in one line on stderr (`error: steps[3].params.columns: …`),
which becomes the job's failure reason.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sageforge.core.errors import SageforgeError


def _load(path: Path) -> str:
    file = path / "flow.json" if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        candidates = sorted(path.glob("*.json"))
        if len(candidates) != 1:
            raise SageforgeError(f"expected one flow JSON file in {path}")
        file = candidates[0]
    return file.read_text()


def run(flow: Path, data: Path, outputs: list[Path], refit: bool = True) -> dict[str, object]:
    """Run the flow; returns {output: {split: {rows, file}}} and prints a summary."""
    import polars as pl

    from sageforge.data.flow import FlowDocument, apply_flow, run_flow, split_frames, write_splits
    from sageforge.data.io import ReadOptions, read_table, scan_table

    doc = FlowDocument.from_json(_load(flow))
    if len(outputs) != len(doc.destinations):
        raise SageforgeError(
            f"the flow has {len(doc.destinations)} destination(s) but {len(outputs)} --output"
        )
    options = ReadOptions.model_validate(doc.source.read_options if doc.source else {})
    started = time.perf_counter()

    def execute(table: pl.DataFrame | pl.LazyFrame) -> tuple[FlowDocument, pl.DataFrame]:
        if refit or not doc.is_fitted:
            return run_flow(doc.unfitted(), table)
        return doc, apply_flow(doc, table)

    try:  # fast path: a lazy scan reads only the columns the flow keeps
        fitted, rows = execute(scan_table(data, options))
    except SageforgeError:
        # A malformed file, a type inferred too narrowly, or a step that fails: the
        # eager reader explains the first two with file, line and column, or widens
        # the type; a failing step fails again below with its own message.
        fitted, rows = execute(read_table(data, options))
    parts = split_frames(fitted, rows)
    assert fitted.fitted is not None
    fitted.fitted["rows"] = rows.height
    print(
        f"the flow produced {rows.height:,} rows x {len(parts[next(iter(parts))].columns)} columns",
        flush=True,
    )
    fitted.fitted["split_counts"] = {name: df.height for name, df in parts.items()}
    result: dict[str, object] = {}
    for i, (dest, out) in enumerate(zip(fitted.destinations, outputs, strict=True)):
        written = write_splits(
            fitted, parts, out, dest.format, splits=dest.splits, field=f"destinations[{i}].format"
        )
        result[str(out)] = written
        shown = ", ".join(f"{name} {info['rows']:,} rows" for name, info in written.items())
        print(f"destination {i} ({dest.format}) -> {dest.url}: {shown}", flush=True)
    print(f"flow ran in {time.perf_counter() - started:.2f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sageforge.data.flow.run")
    parser.add_argument("--flow", required=True, type=Path, help="flow.json, or a folder with it")
    parser.add_argument("--data", required=True, type=Path, help="the source file or folder")
    parser.add_argument(
        "--output", action="append", default=[], type=Path, help="one folder per destination"
    )
    parser.add_argument(
        "--no-refit", action="store_true", help="apply the flow's fitted state instead of refitting"
    )
    args = parser.parse_args(argv)
    try:
        run(args.flow, args.data, args.output, refit=not args.no_refit)
    except SageforgeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
