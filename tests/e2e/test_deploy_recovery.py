"""Endpoints survive their workers dying and the server restarting."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any

import httpx
import psutil
import pytest

from sageforge.sdk import Predictor

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning"),
]

BODY = b"0.1,0.2,0.3,0.4"


def workers(home: Any, endpoint: str) -> list[psutil.Process]:
    marker = str(home / "endpoints" / endpoint)
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info.get("cmdline") or []
        if any(marker in part for part in cmd) and "sageforge.deploy._worker" in cmd:
            out.append(p)
    return out


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def deploy(server: Any, make: Any, name: str, instances: int = 1) -> tuple[Any, Predictor]:
    session = server.session()
    model = make(f"models/{name}/model.tar.gz", 0)
    session.api.post("/models", {"model_name": name, "primary_container": {
        "model_data_url": model.url, "algorithm_name": "xgboost"}})  # fmt: skip
    session.api.post("/endpoint-configs", {"endpoint_config_name": name, "production_variants": [
        {"variant_name": "A", "model_name": name, "initial_instance_count": instances}]},
    )  # fmt: skip
    session.api.post("/endpoints", {"endpoint_name": name, "endpoint_config_name": name})
    p = Predictor(name, session)
    assert p.wait(120)["endpoint_status"] == "InService"
    return session, p


@pytest.fixture
def make_model(fresh_server: Any) -> Any:
    from sageforge.sdk import Session

    def make(key: str, seed: int) -> Any:
        import importlib

        conftest = importlib.import_module("tests.conftest")
        session: Session = fresh_server.session()
        return conftest.TinyXGBoost(session, key=key, seed=seed)

    return make


def test_workers_and_server_restarts(fresh_server: Any, make_model: Any) -> None:
    """One endpoint through three accidents: a worker killed, a clean restart, a server killed."""
    _, p = deploy(fresh_server, make_model, "ep-recover", instances=2)
    url = p.describe()["endpoint_url"]

    # 1. a worker is killed: its sibling answers meanwhile, a replacement starts
    before = {w.pid for w in workers(fresh_server.home, "ep-recover")}
    assert len(before) == 2
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    for _ in range(20):
        r = httpx.post(
            url + "/invocations",
            content=BODY,
            headers={"content-type": "text/csv"},
            trust_env=False,
        )
        assert r.status_code == 200
    wait_for(
        lambda: len({w.pid for w in workers(fresh_server.home, "ep-recover")} - {victim}) == 2,
        what="a replacement worker",
    )
    assert p.describe()["endpoint_status"] == "InService"
    for _ in range(20):
        assert p.invoke(BODY).variant == "A"
    p.close()

    # SageMaker lets the model and the config in use be deleted: the endpoint goes on
    # serving what it deployed, and must come back from that after the restarts below.
    api = fresh_server.session().api
    api.request("DELETE", "/endpoint-configs/ep-recover")
    api.request("DELETE", "/models/ep-recover")
    assert p.describe()["endpoint_status"] == "InService"

    # 2. and 3. the server stops cleanly, then is killed: the endpoint comes back each time
    for how in (signal.SIGTERM, signal.SIGKILL):
        old_workers = {w.pid for w in workers(fresh_server.home, "ep-recover")}
        fresh_server.stop(how)
        if how == signal.SIGTERM:  # a clean stop drains and stops the workers
            assert workers(fresh_server.home, "ep-recover") == []
        fresh_server.start()
        p.close()
        p = Predictor("ep-recover", fresh_server.session())
        back = p.wait(120)
        assert back["endpoint_status"] == "InService", back["failure_reason"]
        assert back["endpoint_url"] == url  # the same port: clients keep their URL
        assert p.invoke(BODY).variant == "A"
        r = httpx.post(
            url + "/invocations",
            content=BODY,
            headers={"content-type": "text/csv"},
            trust_env=False,
        )
        assert r.status_code == 200
        now = {w.pid for w in workers(fresh_server.home, "ep-recover")}
        assert len(now) == 2 and not (now & old_workers)  # orphans of a killed server were ended
    p.delete_endpoint()


def test_a_stuck_worker_is_replaced(
    fresh_server: Any, make_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that is alive but answers nothing (here: stopped with SIGSTOP) is killed
    after missing its health checks, and a new one takes its place."""
    monkeypatch.setenv("SAGEFORGE_WORKER_HEALTH_PERIOD_SECONDS", "0.5")
    fresh_server.stop(signal.SIGTERM)
    fresh_server.start()  # the server reads the period at start-up
    _, p = deploy(fresh_server, make_model, "ep-stuck", instances=2)
    before = {w.pid for w in workers(fresh_server.home, "ep-stuck")}
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGSTOP)
    try:
        wait_for(lambda: not psutil.pid_exists(victim) or psutil.Process(victim).status()
                 == psutil.STATUS_ZOMBIE, timeout=60, what="the stuck worker to be killed")  # fmt: skip
        wait_for(
            lambda: len({w.pid for w in workers(fresh_server.home, "ep-stuck")} - {victim}) == 2,
            what="a replacement worker",
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    assert p.describe()["endpoint_status"] == "InService"
    for _ in range(10):
        assert p.invoke(BODY).variant == "A"
    p.delete_endpoint()


SLOW_CODE = """
import time

def model_fn(model_dir):
    return None

def transform_fn(model, body, content_type, accept):
    time.sleep(1.0)
    return b"done:" + body, "text/plain"
"""


def test_async_invocations_survive_a_server_kill(
    fresh_server: Any, make_model: Any, tmp_path: Any
) -> None:
    """Invocations accepted, then the server killed: the restarted server runs them, and
    answers their status from its records, also after a further restart."""
    session = fresh_server.session()
    tiny = make_model("models/ep-async/model.tar.gz", 0)
    src = tmp_path / "code"
    src.mkdir()
    (src / "inference.py").write_text(SLOW_CODE)
    code_url = session.upload(src, "code/ep-async")
    session.api.post("/models", {"model_name": "ep-async", "primary_container": {
        "model_data_url": tiny.url, "entry_point": "inference.py", "source_dir": code_url}})  # fmt: skip
    session.api.post("/endpoint-configs", {
        "endpoint_config_name": "ep-async",
        "production_variants": [{"variant_name": "A", "model_name": "ep-async"}],
        "async_inference_config": {"output_config": {"s3_output_path": "store://async-out"}}})  # fmt: skip
    session.api.post(
        "/endpoints", {"endpoint_name": "ep-async", "endpoint_config_name": "ep-async"}
    )
    p = Predictor("ep-async", session)
    assert p.wait(120)["endpoint_status"] == "InService"
    ids = []
    for i in range(4):
        session.upload_bytes(f"request {i}".encode(), f"async-in/{i}.txt")
        ids.append(p.invoke_async(f"store://async-in/{i}.txt", content_type="text/plain")
                   ["inference_id"])  # fmt: skip
    assert {p.async_result(i)["status"] for i in ids} <= {"Queued", "InProgress"}
    p.close()
    fresh_server.stop(signal.SIGKILL)  # each takes a second: none has finished
    assert not (fresh_server.home / "store" / "async-out").exists()

    fresh_server.start()
    p = Predictor("ep-async", fresh_server.session())
    wait_for(lambda: all(p.async_result(i)["status"] == "Completed" for i in ids), timeout=120,
             what="the accepted invocations to be run after the restart")  # fmt: skip
    for n, iid in enumerate(ids):
        result = p.async_result(iid)
        assert p.session.read_bytes(result["output_location"]) == f"done:request {n}".encode()
    p.close()
    fresh_server.stop(signal.SIGTERM)
    fresh_server.start()
    p = Predictor("ep-async", fresh_server.session())
    assert p.async_result(ids[0])["status"] == "Completed"  # from its record
    assert p.wait(120)["endpoint_status"] == "InService"
    p.delete_endpoint()
