"""`sageforge endpoints` and `sageforge transform` against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*Unknown file format.*:UserWarning"),
]


def run(server: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SAGEFORGE_HOME": str(server.home),
        "SAGEFORGE_URL": server.url,
        "COLUMNS": "200",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "sageforge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_endpoint_lifecycle_and_transform_from_the_cli(
    server: Any, session: Any, tiny_xgboost: Any, make_tiny_xgboost: Any
) -> None:
    out = run(server, "endpoints", "create", "cli-ep", "--model-data", tiny_xgboost.url,
              "--algorithm", "xgboost", "--capture", "store://cli-capture").stdout  # fmt: skip
    assert "InService" in out and "/invocations" in out
    assert "cli-ep" in run(server, "endpoints", "list").stdout
    answer = run(server, "endpoints", "invoke", "cli-ep", "--body", "0.1,0.2,0.3,0.4").stdout
    assert float(answer.split()[0]) == pytest.approx(
        float(tiny_xgboost.scores([[0.1, 0.2, 0.3, 0.4]])[0]), abs=1e-6
    )
    assert "variant AllTraffic" in answer
    bad = run(server, "endpoints", "invoke", "cli-ep", "--body", "1,2", check=False)
    assert bad.returncode == 1 and "features" in bad.stderr

    v2 = make_tiny_xgboost("models/cli-v2/model.tar.gz", 2)
    out = run(server, "endpoints", "update", "cli-ep", "--model-data", v2.url, "--algorithm", "xgboost",
              "--canary", "50", "--bake", "0.5").stdout  # fmt: skip
    assert "Succeeded" in out
    out = run(server, "endpoints", "describe", "cli-ep").stdout
    assert "InService" in out and "data capture" not in out  # the new config has no capture
    assert run(server, "endpoints", "describe", "cli-ep", "--json").stdout.lstrip().startswith("{")

    session.upload_bytes(b"0.1,0.2,0.3,0.4\n1,2,3,4\n", "cli-tx/in/rows.csv")
    out = run(server, "transform", "store://cli-tx/in", "--model",
              run_model_name(session), "--output", "store://cli-tx/out").stdout  # fmt: skip
    assert "Completed" in out and "2 record(s)" in out
    assert len(session.read_bytes("store://cli-tx/out/rows.csv.out").split()) == 2

    assert "deleted" in run(server, "endpoints", "delete", "cli-ep").stdout
    assert "cli-ep" not in run(server, "endpoints", "list").stdout


def run_model_name(session: Any) -> str:
    return str(session.api.get("/models", max_results=100)["models"][0]["model_name"])
