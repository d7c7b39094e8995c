"""The transform job's program in-process: mini-batches across files, parse-ahead, failures.

The end-to-end tests drive it through the server; these run `run_transform_job`
itself on a local store, with inputs big enough to be cut into several
mini-batches per file, so the window, the parse-ahead thread and the fallbacks
from the fast path are exercised where a failure is easy to read.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sageforge.core.jobs._events import EventWriter
from sageforge.core.jobs._layout import JobLayout
from sageforge.core.jobs._process import StopSignal
from sageforge.core.jobs.runner import JobFailure, RunContext
from sageforge.deploy import _transform_program as program

FEATURES = 4


@pytest.fixture(scope="module")
def booster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import xgboost

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, FEATURES)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.float32)
    return xgboost.train({"objective": "binary:logistic", "max_depth": 3}, xgboost.DMatrix(X, y), 8)


def _store(tmp_path: Path, booster: Any) -> Path:
    root = tmp_path / "store"
    (root / "m").mkdir(parents=True)
    raw = booster.save_raw("ubj")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(bytes(raw)))
    (root / "m" / "model.tar.gz").write_bytes(buf.getvalue())
    return root


def _run(
    tmp_path: Path, root: Path, stop: bool = False, **overrides: Any
) -> tuple[Any, RunContext]:
    spec: dict[str, Any] = {
        "model_name": "m",
        "max_concurrent_transforms": 0,
        "max_payload_in_mb": 1,
        "batch_strategy": "MultiRecord",
        "environment": {},
        "transform_input": {
            "data_source": {"s3_data_source": {"s3_data_type": "S3Prefix", "s3_uri": "store://in"}},
            "content_type": "text/csv",
            "compression_type": "None",
            "split_type": "Line",
        },
        "transform_output": {"s3_output_path": "store://out", "assemble_with": "Line"},
        "data_processing": {"input_filter": "$", "output_filter": "$", "join_source": "None"},
        "containers": [{"model_data_url": "store://m/model.tar.gz", "algorithm_name": "xgboost"}],
        **overrides,
    }
    layout = JobLayout(tmp_path / "job")
    (layout.root / "logs").mkdir(parents=True)
    job = {"name": "t", "spec": spec, "store_url": str(root)}
    ctx = RunContext(layout, job, EventWriter(layout.events_file), StopSignal())
    if stop:
        ctx.stop.set("user")
    return program.run_transform_job(ctx), ctx


def _csv(rows: np.ndarray) -> bytes:
    return ("\n".join(",".join(repr(float(v)) for v in r) for r in rows) + "\n").encode()


def test_many_mini_batches_over_many_files_keep_input_order(tmp_path: Path, booster: Any) -> None:
    root = _store(tmp_path, booster)
    rng = np.random.default_rng(5)
    inputs = {name: rng.normal(size=(n, FEATURES)) for name, n in
              [("a.csv", 30_000), ("b/b.csv", 7), ("c.csv", 45_000)]}  # fmt: skip
    for name, rows in inputs.items():
        (root / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "in" / name).write_bytes(_csv(rows))
    assert (root / "in" / "c.csv").stat().st_size > 2 * 1024 * 1024  # three mini-batches at 1 MB
    result, _ = _run(tmp_path, root)
    assert result.status == "Completed"
    assert result.outputs["records"] == sum(len(r) for r in inputs.values())
    for name, rows in inputs.items():
        got = np.loadtxt(root / "out" / f"{name}.out", dtype=np.float32, ndmin=1)
        expected = booster.inplace_predict(rows.astype(np.float32))
        assert np.array_equal(got, expected), name  # bit for bit, in input order


def test_a_bad_record_fails_the_job_naming_the_file_and_the_value(
    tmp_path: Path, booster: Any
) -> None:
    root = _store(tmp_path, booster)
    (root / "in").mkdir()
    good = np.random.default_rng(1).normal(size=(20_000, FEATURES))
    (root / "in" / "1-good.csv").write_bytes(_csv(good))
    (root / "in" / "2-bad.csv").write_bytes(_csv(good[:50]) + b"1,2,oops,4\n")
    with pytest.raises(JobFailure, match=r"2-bad\.csv.*oops"):
        _run(tmp_path, root)
    assert (root / "out" / "1-good.csv.out").exists()  # files before the bad one are written


def test_rows_of_the_wrong_width_get_the_endpoint_s_message(tmp_path: Path, booster: Any) -> None:
    root = _store(tmp_path, booster)
    (root / "in").mkdir()
    (root / "in" / "narrow.csv").write_bytes(_csv(np.ones((10, FEATURES - 1))))
    with pytest.raises(JobFailure, match=r"narrow\.csv.*takes 4 features"):
        _run(tmp_path, root)


def _parquet_input(root: Path, name: str, columns: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "in").mkdir(exist_ok=True)
    pq.write_table(pa.table(columns), root / "in" / name)


def _parquet_spec() -> dict[str, Any]:
    return {
        "data_source": {"s3_data_source": {"s3_data_type": "S3Prefix", "s3_uri": "store://in"}},
        "content_type": "application/x-parquet",
        "compression_type": "None",
        "split_type": "None",
    }


def test_parquet_files_are_parsed_ahead_and_scored_in_order(tmp_path: Path, booster: Any) -> None:
    root = _store(tmp_path, booster)
    rng = np.random.default_rng(7)
    inputs = {"a.parquet": rng.normal(size=(60_000, FEATURES)),  # several mini-batches at 1 MB
              "b.parquet": rng.normal(size=(9, FEATURES))}  # fmt: skip
    for name, rows in inputs.items():  # float64 and int columns, as tables come
        columns = {f"f{j}": rows[:, j] for j in range(FEATURES - 1)}
        columns["n"] = np.round(rows[:, -1] * 10).astype(np.int64)
        _parquet_input(root, name, columns)
    result, _ = _run(tmp_path, root, transform_input=_parquet_spec())
    assert result.status == "Completed"
    for name, rows in inputs.items():
        X = rows.astype(np.float32)
        X[:, -1] = np.round(rows[:, -1] * 10)
        got = np.loadtxt(root / "out" / f"{name}.out", dtype=np.float32, ndmin=1)
        assert np.array_equal(got, booster.inplace_predict(X)), name


def test_a_parquet_file_with_a_text_column_fails_the_job_naming_it(
    tmp_path: Path, booster: Any
) -> None:
    root = _store(tmp_path, booster)
    _parquet_input(root, "words.parquet", {"f0": [1.0, 2.0], "f1": ["a", "b"], "f2": [0.0, 1.0],
                                           "f3": [3.0, 4.0]})  # fmt: skip
    with pytest.raises(JobFailure, match=r"words\.parquet"):
        _run(tmp_path, root, transform_input=_parquet_spec())


def test_missing_model_fails_cleanly_while_input_is_parsed_ahead(
    tmp_path: Path, booster: Any
) -> None:
    root = _store(tmp_path, booster)
    (root / "in").mkdir()
    (root / "in" / "a.csv").write_bytes(_csv(np.ones((1000, FEATURES))))
    containers = [{"model_data_url": "store://m/missing.tar.gz", "algorithm_name": "xgboost"}]
    with pytest.raises(JobFailure, match="could not load model"):
        _run(tmp_path, root, containers=containers)


def test_the_job_process_imports_neither_scikit_learn_nor_pandas(
    tmp_path: Path, booster: Any
) -> None:
    """Both cost seconds of start-up (more than scoring a million rows) and the job uses neither."""
    import subprocess
    import sys

    root = _store(tmp_path, booster)
    (root / "in").mkdir()
    rows = np.random.default_rng(2).normal(size=(500, FEATURES))
    (root / "in" / "a.csv").write_bytes(_csv(rows))
    script = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).parent)!r})
import test_transform_program as t
result, _ = t._run(Path({str(tmp_path)!r}), Path({str(root)!r}))
print(result.status, sorted(m for m in ("sklearn", "pandas", "scipy.stats") if m in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split(None, 1) == ["Completed", "[]\n"], out.stdout + out.stderr
    got = np.loadtxt(root / "out" / "a.csv.out", dtype=np.float32)
    assert np.array_equal(got, booster.inplace_predict(rows.astype(np.float32)))


def test_a_stopped_job_writes_nothing(tmp_path: Path, booster: Any) -> None:
    root = _store(tmp_path, booster)
    (root / "in").mkdir()
    (root / "in" / "a.csv").write_bytes(_csv(np.ones((1000, FEATURES))))
    result, _ = _run(tmp_path, root, stop=True)
    assert result.status == "Stopped"
    assert not (root / "out").exists()


def test_only_a_booster_scores_matrices_directly() -> None:
    """Other built-ins answer more than a score per row, so they go through `invoke`."""
    from sageforge.deploy._handler import BuiltinHandler
    from sageforge.train.algorithms import get_algorithm

    handler = BuiltinHandler.__new__(BuiltinHandler)
    handler.algorithm, handler.model = get_algorithm("linear-learner"), object()
    assert handler.features_predictor() is None
    handler.algorithm, handler.model = get_algorithm("xgboost"), _Booster()
    predict = handler.features_predictor()
    assert predict is not None and predict(np.ones((2, 3))) == (2, 3)


class _Booster:
    def inplace_predict(self, X: np.ndarray, validate_features: bool = True) -> tuple[int, ...]:
        assert validate_features is False  # the rows are positional, as at the endpoint
        return tuple(X.shape)
