"""Real-time endpoint throughput and latency against a minimal Starlette + Uvicorn app.

Both sides serve the same XGBoost Booster (100 trees of depth 6 over 28
features, predicting on one thread as a busy server should) on 127.0.0.1:

- baseline: a hand-written Starlette app, one Uvicorn process (uvloop and
  httptools when installed, as Uvicorn picks them): `POST /invocations` parses
  the CSV rows with numpy, calls `inplace_predict`, answers CSV;
- sageforge: an endpoint with one instance (one worker process) of the built-in
  XGBoost, **data capture at 100 %**, hit on its direct endpoint URL.

Load: `wrk` (single-row CSV, keep-alive, one thread) at concurrency 1, 16 and
64, each side in turn for three rounds; a round's ratio compares two runs made
back to back and the median round is reported; when `wrk` is missing, a multi-process
Python client does the same (the output says which). The runtime route
(`POST /endpoints/{name}/invocations` through the server) is measured apart at
concurrency 1: its overhead is its median latency minus the direct URL's.

Target (issue 7): every `serve_c*_ratio` (requests/s of the endpoint over the
baseline's) >= 0.8.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np

SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = (1, 16, 64)
FEATURES = 28
ROW = ",".join(f"{v:.4f}" for v in np.random.default_rng(7).normal(size=FEATURES))

BASELINE_APP = textwrap.dedent(
    """
    import sys
    import numpy as np
    import xgboost as xgb
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    booster = xgb.Booster()
    booster.load_model(sys.argv[1])
    booster.set_param({"nthread": 1})

    async def invocations(request):
        body = await request.body()
        rows = [line.split(",") for line in body.decode().splitlines() if line]
        scores = booster.inplace_predict(np.array(rows, dtype=np.float32))
        return Response("\\n".join(map(str, scores.tolist())), media_type="text/csv")

    async def ping(request):
        return Response(b"")

    app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"]),
                            Route("/ping", ping)])
    """
)

WRK_SCRIPT = """wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "text/csv"
"""


def train_model(path: Path) -> None:
    import xgboost as xgb

    rng = np.random.default_rng(42)
    X = rng.normal(size=(20000, FEATURES)).astype(np.float32)
    y = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + rng.normal(0, 1, len(X)) > 0
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "tree_method": "hist"}
    booster = xgb.train(params, xgb.DMatrix(X, label=y.astype(np.float32)), 100)
    booster.save_model(str(path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


# -- load generators ---------------------------------------------------------------------------


def run_wrk(url: str, concurrency: int, seconds: float, script: Path) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) from one wrk run."""
    threads = 1  # a second wrk thread would take the core the server needs (2-core machines)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed requests against {url}:\n{out}")

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([0-9.]+)(us|ms|s)", out, re.M)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return rps, pct("50"), pct("99")


def _client(url: str, body: bytes, seconds: float, queue: object) -> None:
    """One keep-alive client process for the Python fallback."""
    import http.client
    from urllib.parse import urlparse

    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t = time.perf_counter()
        conn.request("POST", u.path, body, {"Content-Type": "text/csv"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}")
        latencies.append(time.perf_counter() - t)
    queue.put(latencies)  # type: ignore[attr-defined]


def run_python(url: str, concurrency: int, seconds: float) -> tuple[float, float, float]:
    import multiprocessing as mp

    q: mp.Queue[list[float]] = mp.Queue()
    procs = [
        mp.Process(target=_client, args=(url, ROW.encode(), seconds, q)) for _ in range(concurrency)
    ]
    for p in procs:
        p.start()
    lat = np.concatenate([np.asarray(q.get()) for _ in procs])
    for p in procs:
        p.join()
    return (
        len(lat) / seconds,
        float(np.percentile(lat, 50) * 1000),
        float(np.percentile(lat, 99) * 1000),
    )


# -- the run -----------------------------------------------------------------------------------


def main() -> int:
    use_wrk = shutil.which("wrk") is not None
    print(f"load generator: {'wrk' if use_wrk else 'multi-process Python client (wrk not found)'}")
    tmp = Path(tempfile.mkdtemp(prefix="sageforge-bench-serve-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        model = tmp / "xgboost-model"
        train_model(model)
        script = tmp / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=ROW))

        def measure(url: str, c: int) -> tuple[float, float, float]:
            return run_wrk(url, c, SECONDS, script) if use_wrk else run_python(url, c, SECONDS)

        # baseline app
        (tmp / "baseline.py").write_text(BASELINE_APP)
        bport = free_port()
        launch = (
            f"import sys; sys.argv = ['baseline', {str(model)!r}]; import uvicorn, baseline; "
            f"uvicorn.run(baseline.app, host='127.0.0.1', port={bport}, log_level='warning', "
            "access_log=False)"
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", launch], cwd=tmp, env={**os.environ, "PYTHONPATH": str(tmp)}
            )
        )
        baseline_url = f"http://127.0.0.1:{bport}/invocations"
        wait_http(f"http://127.0.0.1:{bport}/ping")

        # sageforge server + endpoint
        home = tmp / "home"
        env = {**os.environ, "SAGEFORGE_HOME": str(home)}
        env.pop("SAGEFORGE_URL", None)
        with open(tmp / "server.log", "wb") as server_log:
            server = subprocess.Popen(
                [sys.executable, "-m", "sageforge.cli", "server", "--port", "0", "--log-level", "warning"],
                env=env, stdout=subprocess.DEVNULL, stderr=server_log,
            )  # fmt: skip
        procs.append(server)
        deadline = time.monotonic() + 60
        while not (home / "server.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        server_url = json.loads((home / "server.json").read_text())["url"]
        wait_http(f"{server_url}/health")
        api = httpx.Client(base_url=f"{server_url}/api/v1", timeout=120, trust_env=False)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(model, arcname="xgboost-model")
        api.put("/store/bench/model.tar.gz", content=buf.getvalue()).raise_for_status()
        api.post(
            "/models",
            json={
                "model_name": "bench",
                "primary_container": {
                    "model_data_url": "store://bench/model.tar.gz",
                    "algorithm_name": "xgboost",
                },
            },
        ).raise_for_status()
        api.post("/endpoint-configs", json={
            "endpoint_config_name": "bench",
            "production_variants": [{"variant_name": "AllTraffic", "model_name": "bench",
                                     "initial_instance_count": 1}],
            "data_capture_config": {"initial_sampling_percentage": 100,
                                    "destination_s3_uri": "store://bench/capture"},
        }).raise_for_status()  # fmt: skip
        api.post(
            "/endpoints", json={"endpoint_name": "bench", "endpoint_config_name": "bench"}
        ).raise_for_status()
        desc = api.get("/endpoints/bench/wait", params={"timeout": 60}).json()
        assert desc["endpoint_status"] == "InService", desc
        direct_url = desc["endpoint_url"] + "/invocations"
        runtime_url = f"{server_url}/endpoints/bench/invocations"
        for url in (direct_url, baseline_url, runtime_url):  # warm up
            for _ in range(200):
                httpx.post(url, content=ROW, headers={"content-type": "text/csv"}, trust_env=False)

        print(f"{'':<10}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
        ratios = {}
        for c in CONCURRENCY:
            # Rounds alternate which side goes first; each round's ratio compares two runs made
            # back to back, so a busy neighbour on the machine slows both sides of a ratio.
            runs: dict[str, list[tuple[float, float, float]]] = {"baseline": [], "endpoint": []}
            round_ratios = []
            for r in range(ROUNDS):
                order = [("baseline", baseline_url), ("endpoint", direct_url)]
                for side, url in order if r % 2 == 0 else order[::-1]:
                    runs[side].append(measure(url, c))
                round_ratios.append(runs["endpoint"][-1][0] / runs["baseline"][-1][0])
            for side in ("baseline", "endpoint"):
                rps, p50, p99 = (float(np.median([x[i] for x in runs[side]])) for i in range(3))
                print(f"{side:<10}{c:>4}{rps:>10.0f}{p50:>9.3f}{p99:>9.3f}")
            ratios[c] = float(np.median(round_ratios))
            print(
                f"{'':<10}{'':>4}  ratio per round: {', '.join(f'{x:.2f}' for x in round_ratios)}"
            )
        d1 = min((measure(direct_url, 1) for _ in range(2)), key=lambda r: r[1])
        r1 = min((measure(runtime_url, 1) for _ in range(2)), key=lambda r: r[1])
        r16 = measure(runtime_url, 16)
        print(
            f"{'runtime':<10}{1:>4}{r1[0]:>10.0f}{r1[1]:>9.3f}{r1[2]:>9.3f}  (through the server)"
        )
        print(
            f"{'runtime':<10}{16:>4}{r16[0]:>10.0f}{r16[1]:>9.3f}{r16[2]:>9.3f}  (through the server)"
        )
        time.sleep(1.5)  # let the capture writer commit
        captured = api.get("/store", params={"prefix": "bench/capture"}).json()["objects"]
        print(f"data capture: 100 % sampling, {len(captured)} capture file(s) committed")
        for c in CONCURRENCY:
            print(f"RESULT serve_c{c}_ratio {ratios[c]:.3f}")
        print(f"RESULT runtime_route_overhead_ms {max(0.0, r1[1] - d1[1]):.3f}")
        api.delete("/endpoints/bench")
        api.close()
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
