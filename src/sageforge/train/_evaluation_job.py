"""The evaluation job: score a model on labelled data, write evaluation.json and a report.

Runs as a processing job's command (`python -m sageforge.train._evaluation_job`),
the way SageMaker pipelines evaluate a model in a processing step: the model's
model.tar.gz and the labelled data arrive as inputs; `evaluation.json` and
`report.html` leave as the output. The model is scored through its built-in
algorithm's own inference code, so the numbers are what an endpoint would give.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def evaluate_model(
    algorithm: str,
    model_dir: Path,
    data_dir: Path,
    content_type: str,
    output_dir: Path,
    *,
    problem_type: str | None = None,
    title: str = "Model evaluation",
) -> dict[str, Any]:
    """Score `model_dir` (extracted or holding model.tar.gz) on `data_dir`; write the results."""
    from sageforge.train.algorithms import get_algorithm
    from sageforge.train.algorithms._data import load_channel
    from sageforge.train.evaluation import evaluate, write_report

    algo = get_algorithm(algorithm)
    with tempfile.TemporaryDirectory() as tmp:
        extracted = _extract(model_dir, Path(tmp))
        model = algo.load_model(extracted)
        data = load_channel(data_dir, content_type, channel="test")
        if data.y is None:
            raise SystemExit("the evaluation data has no label column")
        scores = algo.predict_features(model, data.X)
    result = evaluate(data.y, np.asarray(scores), problem_type)  # type: ignore[arg-type]
    result["algorithm"] = algorithm
    output_dir.mkdir(parents=True, exist_ok=True)
    tmp_json = output_dir / ".evaluation.json.tmp"
    tmp_json.write_text(json.dumps(result, indent=1, default=float))
    tmp_json.replace(output_dir / "evaluation.json")
    write_report(result, output_dir / "report.html", title=title)
    return result


def _extract(model_dir: Path, into: Path) -> Path:
    """The folder holding the model files: model.tar.gz is unpacked, a folder used as is."""
    archives = sorted(model_dir.rglob("*.tar.gz")) if model_dir.is_dir() else [model_dir]
    if not archives:
        return model_dir
    with tarfile.open(archives[0]) as tar:
        tar.extractall(into, filter="data")
    return into


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--algorithm", required=True)
    p.add_argument("--model", required=True, type=Path, help="folder with model.tar.gz")
    p.add_argument("--data", required=True, type=Path, help="folder with labelled data")
    p.add_argument("--content-type", default="text/csv")
    p.add_argument("--problem-type", default=None, choices=["binary", "multiclass", "regression"])
    p.add_argument("--output", required=True, type=Path)
    p.add_argument("--title", default="Model evaluation")
    args = p.parse_args(argv)
    result = evaluate_model(
        args.algorithm,
        args.model,
        args.data,
        args.content_type,
        args.output,
        problem_type=args.problem_type,
        title=args.title,
    )
    print(json.dumps({k: v for k, v in result.items() if k.endswith("_metrics")}, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
