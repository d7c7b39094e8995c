"""Built-in XGBoost serving loads every model file format SageMaker's own XGBoost jobs write.

Old containers (0.90) pickled the Booster; later ones save XGBoost's binary,
JSON or UBJSON format under `xgboost-model`. Each, packed in model.tar.gz as a
job leaves it, must answer the same predictions.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from sageforge.deploy._handler import BuiltinHandler


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(float)
    return xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(X, y), 5)


def _raw(booster: xgb.Booster, fmt: str, tmp: Path) -> bytes:
    if fmt == "pickle":
        return pickle.dumps(booster)
    if fmt == "binary":  # the deprecated format of the 1.3-1 … 1.7-1 containers
        pytest.skip(
            "XGBoost 3 cannot write its deprecated binary format (save_model falls back to "
            "UBJSON), so there is no such file to test loading with"
        )
    path = tmp / f"m.{fmt}"
    booster.save_model(str(path))
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["pickle", "binary", "json", "ubj"])
def test_builtin_handler_loads_each_format_from_model_tar_gz(
    booster: xgb.Booster, fmt: str, tmp_path: Path
) -> None:
    data = _raw(booster, fmt, tmp_path)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (model_dir / "model.tar.gz").write_bytes(buf.getvalue())
    with tarfile.open(model_dir / "model.tar.gz") as tar:
        tar.extractall(model_dir, filter="data")
    (model_dir / "model.tar.gz").unlink()

    handler = BuiltinHandler("xgboost", model_dir)
    rows = np.array([[1.0, 0.0, 0.0], [-1.0, 0.5, 2.0]])
    body, ctype = handler.invoke(
        "\n".join(",".join(str(v) for v in r) for r in rows).encode(), "text/csv", "text/csv"
    )
    expected = booster.inplace_predict(rows)
    got = np.array([float(v) for v in body.decode().splitlines()])
    assert ctype == "text/csv"
    np.testing.assert_allclose(got, expected, rtol=1e-6)
