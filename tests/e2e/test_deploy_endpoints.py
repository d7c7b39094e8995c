"""Real-time endpoints through a real server: invoke, capture, metrics, variants, rollouts."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from sageforge.core.errors import ResourceInUse, ValidationError
from sageforge.sdk import ModelError, Predictor, Session

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning"),
]

ROWS = np.random.default_rng(3).normal(size=(20, 4)).round(4)


def csv_of(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(str(v) for v in r) for r in rows).encode()


def create_endpoint(
    session: Session,
    name: str,
    variants: list[dict[str, Any]],
    *,
    capture: str | None = None,
    shadow: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {"endpoint_config_name": f"{name}-c1", "production_variants": variants}
    if capture:
        config["data_capture_config"] = {"destination_s3_uri": capture}
    if shadow:
        config["shadow_production_variants"] = shadow
    session.api.post("/endpoint-configs", config)
    session.api.post("/endpoints", {"endpoint_name": name, "endpoint_config_name": f"{name}-c1"})
    with Predictor(name, session) as p:
        desc = p.wait(120)
    assert desc["endpoint_status"] == "InService", desc["failure_reason"]
    return desc


def model(session: Session, name: str, url: str, **container: Any) -> str:
    body = {"model_name": name, "primary_container": {"model_data_url": url, **container}}
    session.api.post("/models", body)
    return name


def script_model(session: Session, tmp_path: Path, name: str, code: str, model_url: str) -> str:
    src = tmp_path / name
    src.mkdir()
    (src / "inference.py").write_text(textwrap.dedent(code))
    url = session.upload(src, f"code/{name}")
    return model(session, name, model_url, entry_point="inference.py", source_dir=url)


class Load:
    """Continuous traffic from a few threads, bounded in time and count; counts every failure."""

    def __init__(
        self, url: str, body: bytes, threads: int = 4, max_s: float = 60, max_n: int = 50000
    ):
        self.url, self.body = url, body
        self.stop_event = threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.variants: list[str] = []
        self.max_n, self.deadline = max_n, time.monotonic() + max_s
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not self.stop_event.is_set() and time.monotonic() < self.deadline:
                if self.ok + len(self.failures) >= self.max_n:
                    return
                try:
                    r = client.post(
                        self.url, content=self.body, headers={"content-type": "text/csv"}
                    )
                    outcome = (
                        None if r.status_code == 200 else f"HTTP {r.status_code}: {r.text[:200]}"
                    )
                    variant = r.headers.get("x-amzn-invoked-production-variant", "")
                except httpx.HTTPError as exc:
                    outcome, variant = f"{type(exc).__name__}: {exc}", ""
                with self.lock:
                    if outcome is None:
                        self.ok += 1
                        self.variants.append(variant)
                    else:
                        self.failures.append(outcome)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(30)


def test_invoke_every_content_type_capture_and_metrics(session: Session, tiny_xgboost: Any) -> None:
    model(session, "tiny", tiny_xgboost.url, algorithm_name="xgboost")
    desc = create_endpoint(
        session,
        "ep-basic",
        [{"variant_name": "AllTraffic", "model_name": "tiny", "initial_instance_count": 2}],
        capture="store://capture/basic",
    )
    direct = desc["endpoint_url"] + "/invocations"
    runtime = f"{session.url}/endpoints/ep-basic/invocations"
    expected = tiny_xgboost.scores(ROWS)
    sent = 0
    with httpx.Client(trust_env=False, timeout=30) as http:
        for url in (direct, runtime):
            r = http.post(url, content=csv_of(ROWS[:1]), headers={"content-type": "text/csv"})
            assert (
                r.status_code == 200
                and r.headers["x-amzn-invoked-production-variant"] == "AllTraffic"
            )
            assert float(r.text) == pytest.approx(float(expected[0]), abs=1e-6)
            r = http.post(url, content=csv_of(ROWS), headers={"content-type": "text/csv"})
            assert np.allclose([float(x) for x in r.text.split()], expected, atol=1e-6)
            body = json.dumps({"instances": ROWS.tolist()})
            r = http.post(url, content=body, headers={"content-type": "application/json",
                                                      "accept": "application/json"})  # fmt: skip
            scores = [p["score"] for p in r.json()["predictions"]]
            assert np.allclose(scores, expected, atol=1e-6)
            lines = "\n".join(json.dumps({"features": r}) for r in ROWS.tolist())
            r = http.post(url, content=lines, headers={"content-type": "application/jsonlines",
                                                       "accept": "application/jsonlines"})  # fmt: skip
            assert r.headers["content-type"].startswith("application/jsonlines")
            assert np.allclose(
                [json.loads(x)["score"] for x in r.text.splitlines()], expected, atol=1e-6
            )
            r = http.post(url, content=csv_of(ROWS[:2]), headers={
                "content-type": "text/csv", "X-Amzn-SageMaker-Inference-Id": "req-42",
                "X-Amzn-SageMaker-Custom-Attributes": "trace=1"})  # fmt: skip
            assert r.status_code == 200
            sent += 5
            # malformed payloads: 4xx with a message, and the endpoint keeps serving
            bad = http.post(url, content=b"1,2,abc,4", headers={"content-type": "text/csv"})
            assert bad.status_code == 400 and "abc" in bad.json()["error"]["message"]
            bad = http.post(url, content=b"1,2", headers={"content-type": "text/csv"})
            assert bad.status_code == 400 and "features" in bad.json()["error"]["message"]
            bad = http.post(url, content=b"{", headers={"content-type": "application/json"})
            assert bad.status_code == 400
            bad = http.post(url, content=b"x", headers={"content-type": "image/png"})
            assert bad.status_code == 415
            assert (
                http.post(
                    url, content=csv_of(ROWS[:1]), headers={"content-type": "text/csv"}
                ).status_code
                == 200
            )
            sent += 1
        assert http.get(desc["endpoint_url"] + "/ping").status_code == 200
        missing = http.post(f"{session.url}/endpoints/nope/invocations", content=b"1")
        assert missing.status_code == 404

    predictor = Predictor("ep-basic", session)
    assert np.allclose(predictor.predict(ROWS), expected, atol=1e-6)
    sent += 1
    stats = predictor.describe()["metrics"]["AllTraffic"]
    assert stats["invocations"] == sent + 8
    assert stats["invocation_4xx_errors"] == 8 and stats["invocation_5xx_errors"] == 0
    assert stats["model_latency_ms"]["p50"] > 0 and stats["overhead_latency_ms"]["p99"] > 0
    prom = httpx.get(f"{session.url}/metrics", trust_env=False).text
    assert (
        f'sageforge_endpoint_invocations_total{{endpoint="ep-basic",variant="AllTraffic"}} {sent + 8}'
        in prom
    )
    assert (
        'sageforge_endpoint_model_latency_seconds{endpoint="ep-basic",variant="AllTraffic",quantile="0.99"}'
        in prom
    )

    predictor.delete_endpoint()  # drains the workers: every buffered record is committed
    records = _capture(session, "capture/basic")
    assert len(records) == sent  # at 100 %: each successful request exactly once
    ids = {r["eventMetadata"]["eventId"] for r in records}
    assert len(ids) == sent
    tagged = [r for r in records if r["eventMetadata"].get("inferenceId") == "req-42"]
    assert len(tagged) == 2 and tagged[0]["eventMetadata"]["customAttributes"] == "trace=1"
    one = tagged[0]["captureData"]
    assert one["endpointInput"] == {"observedContentType": "text/csv", "mode": "INPUT",
                                    "data": csv_of(ROWS[:2]).decode(), "encoding": "CSV"}  # fmt: skip
    assert one["endpointOutput"]["mode"] == "OUTPUT" and one["endpointOutput"]["encoding"] == "CSV"
    keys = [o["key"] for o in session.list_store("capture/basic")]
    assert all(k.startswith("capture/basic/ep-basic/AllTraffic/20") for k in keys)
    assert all(len(k.split("/")) == 9 and k.endswith(".jsonl") for k in keys)  # .../yyyy/mm/dd/hh/f


def _capture(session: Session, prefix: str) -> list[dict[str, Any]]:
    out = []
    for obj in session.list_store(prefix):
        for line in session.read_bytes(obj["url"]).splitlines():
            out.append(json.loads(line))
    return out


def test_capture_under_load_counts_every_request(session: Session, tiny_xgboost: Any) -> None:
    model(session, "tiny-load", tiny_xgboost.url, algorithm_name="xgboost")
    desc = create_endpoint(
        session,
        "ep-load",
        [{"variant_name": "A", "model_name": "tiny-load", "initial_instance_count": 2}],
        capture="store://capture/load",
    )
    with Load(desc["endpoint_url"] + "/invocations", csv_of(ROWS[:1]), threads=6, max_s=3) as load:
        time.sleep(3)
    assert not load.failures
    Predictor("ep-load", session).delete_endpoint()
    assert len(_capture(session, "capture/load")) == load.ok > 100


def test_variants_weights_target_variant_and_capacity(session: Session, tiny_xgboost: Any) -> None:
    model(session, "tiny-a", tiny_xgboost.url, algorithm_name="xgboost")
    model(session, "tiny-b", tiny_xgboost.url, algorithm_name="xgboost")
    create_endpoint(
        session,
        "ep-variants",
        [
            {"variant_name": "A", "model_name": "tiny-a", "initial_variant_weight": 1},
            {"variant_name": "B", "model_name": "tiny-b", "initial_variant_weight": 3},
        ],
        shadow=[{"variant_name": "S", "model_name": "tiny-b", "initial_variant_weight": 4}],
    )
    p = Predictor("ep-variants", session)
    body = csv_of(ROWS[:1])
    seen = [p.invoke(body).variant for _ in range(200)]
    share_b = seen.count("B") / len(seen)
    assert 0.6 < share_b < 0.9, share_b
    assert set(seen) == {"A", "B"}  # the shadow never answers a caller ...
    time.sleep(0.5)
    desc = p.describe()
    assert [v["variant_name"] for v in desc["shadow_production_variants"]] == ["S"]
    assert desc["metrics"]["S"]["invocations"] > 100  # ... but gets a copy of the traffic
    assert {p.invoke(body, target_variant="A").variant for _ in range(20)} == {"A"}
    with pytest.raises(ValidationError, match="not a variant"):
        p.invoke(body, target_variant="C")

    desc = p.update_weights_and_capacities(
        {"A": {"desired_weight": 0}, "B": {"desired_instance_count": 2}}
    )
    assert desc["endpoint_status"] == "InService"
    variants = {v["variant_name"]: v for v in p.describe()["production_variants"]}
    assert variants["A"]["current_weight"] == 0 and variants["B"]["current_instance_count"] == 2
    assert {p.invoke(body).variant for _ in range(50)} == {"B"}
    assert p.invoke(body, target_variant="A").variant == "A"  # a variant at weight 0 still answers
    with pytest.raises(ResourceInUse):
        session.api.post(
            "/endpoints", {"endpoint_name": "ep-variants", "endpoint_config_name": "ep-variants-c1"}
        )
    p.delete_endpoint()


def test_user_inference_code_errors_are_5xx_with_the_log(
    session: Session, tiny_xgboost: Any, tmp_path: Path
) -> None:
    code = """
        import json
        import numpy as np

        def model_fn(model_dir):
            return {"offset": 1.0}

        def input_fn(body, content_type, context):
            if body == b"boom":
                raise RuntimeError("the model cannot take 'boom'")
            context.response_custom_attributes = "seen=" + (context.custom_attributes or "")
            return np.asarray(json.loads(body), dtype=float)

        def predict_fn(data, model):
            return data + model["offset"]
        """
    script_model(session, tmp_path, "user-code", code, tiny_xgboost.url)
    create_endpoint(session, "ep-user", [{"variant_name": "A", "model_name": "user-code"}])
    p = Predictor("ep-user", session, content_type="application/json")
    assert p.predict([1, 2, 3]) == [2.0, 3.0, 4.0]
    answer = p.invoke(b"[1]", custom_attributes="x=1")
    assert answer.custom_attributes == "seen=x=1"
    with pytest.raises(ModelError) as err:
        p.invoke(b"boom")
    assert err.value.status == 500
    assert "RuntimeError" in err.value.message and "cannot take 'boom'" in err.value.log
    assert "inference.py" in err.value.log  # the traceback points into the user's code
    assert p.predict([5]) == [6.0]  # and the endpoint keeps serving
    stats = p.describe()["metrics"]["A"]
    assert stats["invocation_5xx_errors"] == 1
    p.delete_endpoint()


def test_a_serverless_variant_throttles_requests_past_its_max_concurrency(
    session: Session, tiny_xgboost: Any, tmp_path: Path
) -> None:
    slow = """
        import time

        def model_fn(model_dir):
            return None

        def transform_fn(model, body, content_type, accept):
            time.sleep(0.5)
            return "0.5", "text/csv"
        """
    script_model(session, tmp_path, "sl-slow", slow, tiny_xgboost.url)
    create_endpoint(session, "ep-sl-limit", [{"variant_name": "AllTraffic", "model_name": "sl-slow",
                    "serverless_config": {"max_concurrency": 2}}])  # fmt: skip
    url = f"{session.url}/endpoints/ep-sl-limit/invocations"
    at_once = 6
    barrier = threading.Barrier(at_once)
    answers: list[httpx.Response] = []

    def call() -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            barrier.wait()
            answers.append(
                client.post(url, content=b"1,2,3,4", headers={"content-type": "text/csv"})
            )

    threads = [threading.Thread(target=call) for _ in range(at_once)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {200, 429} and 200 in statuses and 429 in statuses, statuses
    assert statuses.count(200) <= at_once - 1
    throttled = next(r for r in answers if r.status_code == 429).json()["error"]
    assert throttled["type"] == "ThrottlingException"
    assert "MaxConcurrency of 2" in throttled["message"]
    with Predictor("ep-sl-limit", session) as p:
        assert p.invoke(b"1,2,3,4", "text/csv").body == b"0.5"  # and it serves on
        stats = p.describe()["metrics"]["AllTraffic"]
        assert stats["invocation_4xx_errors"] == statuses.count(429)
        p.delete_endpoint()


def test_canary_update_under_load_then_forced_rollback(
    session: Session, tiny_xgboost: Any, make_tiny_xgboost: Any, tmp_path: Path
) -> None:
    v2 = make_tiny_xgboost("models/tiny-v2/model.tar.gz", 1)
    model(session, "roll-v1", tiny_xgboost.url, algorithm_name="xgboost")
    model(session, "roll-v2", v2.url, algorithm_name="xgboost")
    slow = """
        import time

        def model_fn(model_dir):
            return None

        def transform_fn(model, body, content_type, accept):
            time.sleep(0.05)
            return "0.5", "text/csv"
        """
    script_model(session, tmp_path, "roll-slow", slow, tiny_xgboost.url)
    desc = create_endpoint(
        session, "ep-roll", [{"variant_name": "AllTraffic", "model_name": "roll-v1"}]
    )
    for cfg, m in (("ep-roll-c2", "roll-v2"), ("ep-roll-c3", "roll-slow")):
        session.api.post("/endpoint-configs", {"endpoint_config_name": cfg, "production_variants": [
            {"variant_name": "AllTraffic", "model_name": m}]})  # fmt: skip
    p = Predictor("ep-roll", session)
    body = csv_of(ROWS[:1])
    before, after = float(tiny_xgboost.scores(ROWS[:1])[0]), float(v2.scores(ROWS[:1])[0])
    assert before != after

    canary = {
        "blue_green_update_policy": {
            "traffic_routing_configuration": {
                "type": "CANARY",
                "canary_size": {"type": "CAPACITY_PERCENT", "value": 50},
                "wait_interval_in_seconds": 1.5,
            },
        },
        "auto_rollback_configuration": {
            "alarms": [{"alarm_name": "errors", "metric_name": "ErrorRate", "threshold": 0.01}]
        },
    }
    direct = desc["endpoint_url"] + "/invocations"
    runtime = f"{session.url}/endpoints/ep-roll/invocations"
    with (
        Load(direct, body, threads=3, max_s=60) as load,
        Load(runtime, body, threads=2, max_s=60) as load2,
    ):
        time.sleep(0.5)
        done = p.update_endpoint("ep-roll-c2", deployment_config=canary)
        time.sleep(0.5)
    assert load.failures == [] and load2.failures == []
    assert load.ok > 50 and load2.ok > 20
    assert done["endpoint_config_name"] == "ep-roll-c2" and done["endpoint_status"] == "InService"
    assert done["last_deployment"]["status"] == "Succeeded"
    assert done["last_deployment"]["traffic_steps"] == [0.5, 1.0]
    assert float(p.predict(body)[0]) == pytest.approx(after, abs=1e-6)

    rollback = {
        "blue_green_update_policy": {
            "traffic_routing_configuration": {
                "type": "LINEAR",
                "linear_step_size": {"type": "CAPACITY_PERCENT", "value": 25},
                "wait_interval_in_seconds": 10,
            },
        },
        "auto_rollback_configuration": {"alarms": [
            {"alarm_name": "slow", "metric_name": "ModelLatency", "statistic": "p90",
             "threshold": 20, "min_invocations": 3}]},
    }  # fmt: skip
    started = time.monotonic()
    with Load(direct, body, threads=4, max_s=60) as load:
        time.sleep(0.3)
        done = p.update_endpoint("ep-roll-c3", deployment_config=rollback)
    assert load.failures == []
    assert time.monotonic() - started < 30  # rolled back during the first step, not after 40 s
    assert done["endpoint_status"] == "InService"
    assert done["endpoint_config_name"] == "ep-roll-c2"  # still the old configuration
    assert done["last_deployment"]["status"] == "RolledBack"
    assert "slow" in done["failure_reason"] and "ModelLatency" in done["failure_reason"]
    assert float(p.predict(body)[0]) == pytest.approx(after, abs=1e-6)
    p.delete_endpoint()
    with pytest.raises(Exception, match="no endpoint"):
        p.describe()


def test_a_model_that_cannot_load_fails_the_endpoint_with_its_log(
    session: Session, tiny_xgboost: Any, tmp_path: Path
) -> None:
    code = """
        def model_fn(model_dir):
            raise FileNotFoundError("weights.bin is missing from " + model_dir)
        """
    script_model(session, tmp_path, "cannot-load", code, tiny_xgboost.url)
    session.api.post("/endpoint-configs", {"endpoint_config_name": "ep-broken-c1",
        "production_variants": [{"variant_name": "A", "model_name": "cannot-load"}]})  # fmt: skip
    session.api.post(
        "/endpoints", {"endpoint_name": "ep-broken", "endpoint_config_name": "ep-broken-c1"}
    )
    with Predictor("ep-broken", session) as p:
        with pytest.raises(Exception, match=r"weights\.bin is missing"):
            p.wait(120)
        desc = p.describe()
        assert desc["endpoint_status"] == "Failed" and desc["endpoint_url"] is None
        p.delete_endpoint()
