"""Batch transform jobs, serverless and asynchronous endpoints through a real server."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import pytest

from sageforge.sdk import Model, Predictor, ServerlessConfig, Session, Transformer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning"),
]

rng = np.random.default_rng(11)
A = rng.normal(size=(300, 4)).round(4)
B = rng.normal(size=(40, 4)).round(4)


def csv_bytes(rows: np.ndarray) -> bytes:
    return ("\n".join(",".join(str(v) for v in r) for r in rows) + "\n").encode()


def outputs(session: Session, url: str) -> dict[str, bytes]:
    prefix = url.removeprefix("store://")
    return {
        o["key"][len(prefix) + 1 :]: session.read_bytes(o["url"])
        for o in session.list_store(prefix)
    }


def test_transform_matches_the_endpoint_row_by_row(session: Session, tiny_xgboost: Any) -> None:
    session.upload_bytes(csv_bytes(A), "tx/in/a.csv")
    session.upload_bytes(csv_bytes(B), "tx/in/sub/b.csv")
    model = Model(tiny_xgboost.url, "xgboost", name="tx-model", session=session)
    transformer = model.transformer(output_path="store://tx/out", max_payload=1)
    job = transformer.transform("store://tx/in", content_type="text/csv", split_type="Line")
    desc = job.describe()
    assert desc["transform_job_status"] == "Completed", desc["failure_reason"]
    assert desc["outputs"]["records"] == len(A) + len(B)
    out = outputs(session, "store://tx/out")
    assert set(out) == {"a.csv.out", "sub/b.csv.out"}

    predictor = model.deploy(endpoint_name="tx-endpoint")
    row_by_row = [float(predictor.predict(csv_bytes(r[None, :]))[0]) for r in A]
    batch = [float(x) for x in out["a.csv.out"].split()]
    assert np.array_equal(np.float32(batch), np.float32(row_by_row))  # the same float32 scores
    assert np.allclose([float(x) for x in out["sub/b.csv.out"].split()], tiny_xgboost.scores(B))

    # parquet in, one score per row out
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({f"f{j}": A[:, j] for j in range(4)}), buf)
    session.upload_bytes(buf.getvalue(), "tx/parquet/a.parquet")
    job = transformer.transform("store://tx/parquet", content_type="application/x-parquet",
                                job_name="tx-parquet")  # fmt: skip
    assert job.describe()["transform_job_status"] == "Completed"
    scores = [float(x) for x in session.read_bytes(f"{job.output_path}/a.parquet.out").split()]
    assert np.array_equal(np.float32(scores), np.float32(row_by_row))
    predictor.delete_endpoint()


def test_transform_filters_join_and_single_record(session: Session, tiny_xgboost: Any) -> None:
    model = Model(tiny_xgboost.url, "xgboost", name="tx-model-2", session=session).create()
    ids = np.arange(1, 21)
    with_id = "\n".join(
        f"id{i}," + ",".join(str(v) for v in r) for i, r in zip(ids, A[:20], strict=True)
    )
    session.upload_bytes(with_id.encode(), "tx2/in/ids.csv")
    t = Transformer(model, strategy="SingleRecord", output_path="store://tx2/out", session=session)
    job = t.transform(
        "store://tx2/in", input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]"
    )
    assert job.describe()["transform_job_status"] == "Completed", job.describe()["failure_reason"]
    lines = session.read_bytes("store://tx2/out/ids.csv.out").decode().splitlines()
    expected = tiny_xgboost.scores(A[:20])
    assert [line.split(",")[0] for line in lines] == [f"id{i}" for i in ids]
    assert np.allclose([float(line.split(",")[1]) for line in lines], expected, atol=1e-6)

    records = [
        json.dumps({"id": int(i), "features": r.tolist()}) for i, r in zip(ids, A[:20], strict=True)
    ]
    session.upload_bytes("\n".join(records).encode(), "tx3/in/r.jsonl")
    t = Transformer(
        model, output_path="store://tx3/out", accept="application/jsonlines", session=session
    )
    job = t.transform("store://tx3/in", content_type="application/jsonlines", input_filter="$.features",
                      join_source="Input", output_filter="$['id','SageMakerOutput']")  # fmt: skip
    assert job.describe()["transform_job_status"] == "Completed", job.describe()["failure_reason"]
    got = [json.loads(x) for x in session.read_bytes("store://tx3/out/r.jsonl.out").splitlines()]
    assert [g["id"] for g in got] == ids.tolist()
    assert np.allclose([g["SageMakerOutput"]["score"] for g in got], expected, atol=1e-6)

    session.upload_bytes(b"1,2,3,4\n1,2,oops,4\n", "tx4/in/bad.csv")
    job = t.transform("store://tx4/in", content_type="text/csv")
    desc = job.describe()
    assert desc["transform_job_status"] == "Failed"
    assert "bad.csv" in desc["failure_reason"] and "oops" in desc["failure_reason"]


def test_serverless_scales_to_zero_and_async_invocations(
    session: Session, tiny_xgboost: Any
) -> None:
    model = Model(tiny_xgboost.url, "xgboost", name="sl-model", session=session)
    p = model.deploy(endpoint_name="ep-serverless", serverless=ServerlessConfig(idle_timeout_s=1.0))
    body = csv_bytes(A[:1])
    expected = float(tiny_xgboost.scores(A[:1])[0])
    assert float(p.predict(body)[0]) == pytest.approx(expected, abs=1e-6)
    deadline = time.monotonic() + 30
    while p.describe()["production_variants"][0]["current_instance_count"] > 0:
        assert time.monotonic() < deadline, "the serverless variant never scaled to zero"
        time.sleep(0.25)
    started = time.monotonic()
    assert float(p.predict(body)[0]) == pytest.approx(expected, abs=1e-6)  # a cold start
    assert time.monotonic() - started < 60
    assert p.describe()["metrics"]["AllTraffic"]["invocations"] == 2  # across both workers
    p.delete_endpoint()

    asynchronous = model.deploy(endpoint_name="ep-async", async_output_path="store://async/out")
    session.upload_bytes(csv_bytes(A[:5]), "async/in/req.csv")
    ticket = asynchronous.invoke_async("store://async/in/req.csv", content_type="text/csv")
    assert ticket["output_location"].startswith("store://async/out/")
    deadline = time.monotonic() + 30
    while asynchronous.async_result(ticket["inference_id"])["status"] != "Completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    scores = [float(x) for x in session.read_bytes(ticket["output_location"]).split()]
    assert np.allclose(scores, tiny_xgboost.scores(A[:5]), atol=1e-6)
    with pytest.raises(Exception, match="InputLocation"):
        asynchronous.invoke_async("store://async/in/missing.csv")
    asynchronous.delete_endpoint()
    with Predictor("nothing", session) as nothing, pytest.raises(Exception, match="no endpoint"):
        nothing.describe()
