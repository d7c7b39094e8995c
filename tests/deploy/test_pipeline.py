"""An inference pipeline: a fitted data-prep flow, then the built-in XGBoost, via build_handler."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import xgboost

from sageforge.core.errors import ValidationError
from sageforge.core.store import ArtifactStore
from sageforge.data.flow import FlowDocument, RecordPipeline, run_flow
from sageforge.deploy._handler import build_handler

FLOW = {
    "target": "churn",
    "steps": [
        {"type": "impute", "params": {"columns": ["tenure"], "strategy": "median"}},
        {"type": "one_hot_encode", "params": {"columns": ["internet"]}},
        {"type": "move_column", "params": {"column": "churn"}},
    ],
}


def test_raw_records_go_through_the_flow_then_the_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 300
    raw = pl.DataFrame(
        {
            "tenure": [
                None if i % 10 == 0 else float(v) for i, v in enumerate(rng.integers(1, 72, n))
            ],
            "internet": rng.choice(["fiber", "dsl", "none"], n).tolist(),
            "churn": rng.integers(0, 2, n).tolist(),
        }
    )
    fitted, rows = run_flow(FlowDocument.from_dict(FLOW), raw)
    features = rows.drop("churn")
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 2},
        xgboost.DMatrix(features.to_numpy().astype(np.float32), label=rows["churn"].to_numpy()),
        5,
    )
    store = ArtifactStore(tmp_path.joinpath("store").as_uri())
    store.put_bytes("flows/churn.json", fitted.to_json().encode())
    model_file = tmp_path / "xgboost-model.ubj"
    booster.save_model(str(model_file))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(model_file, arcname="xgboost-model")
    store.put_bytes("models/m/model.tar.gz", buf.getvalue())
    handler = build_handler(
        store,
        [
            {"flow_url": "store://flows/churn.json"},
            {"model_data_url": "store://models/m/model.tar.gz", "algorithm_name": "xgboost"},
        ],
        tmp_path / "work",
    )
    records = [{"tenure": 12.0, "internet": "fiber"}, {"tenure": None, "internet": "dsl"}]
    body, ctype = handler.invoke(
        json.dumps({"instances": records}).encode(), "application/json", "application/json"
    )
    assert ctype == "application/json"
    scores = [p["score"] for p in json.loads(body)["predictions"]]
    direct = []  # the same records through the flow by hand, then the booster
    pipe = RecordPipeline(fitted)
    for r in records:
        out = pipe(r)
        assert out is not None
        direct.append([float("nan") if v is None else float(v) for v in out.values()])
    expected = booster.inplace_predict(np.asarray(direct, dtype=np.float32))
    assert np.allclose(scores, expected, atol=1e-6)
    csv_body, _ = handler.invoke(b"tenure,internet\n12,fiber\n", "text/csv", "text/csv")
    assert float(csv_body) == pytest.approx(float(expected[0]), abs=1e-6)
    with pytest.raises(ValidationError, match="unknown field"):
        handler.invoke(b'{"tenur": 3}', "application/json", "text/csv")
