"""How much a training job costs on top of the script it runs.

Baseline: `python noop.py` run directly. Measured: a script-mode training job
running the same file through a real local server — create, download (no
channels), run, pack and upload model.tar.gz, final status — from the SDK
call to the moment the SDK sees Completed. Both in the same run, medians of N.

Target (issue 3): under 0.5 s of overhead per job.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SAGEFORGE_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("SAGEFORGE_URL", None)
        src = Path(tmp) / "src"
        src.mkdir()
        (src / "noop.py").write_text("pass\n")

        direct = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(src / "noop.py")], check=True)
            direct.append(time.perf_counter() - t0)

        from sageforge.sdk import Session
        from sageforge.sdk._local_server import stop_server

        session = Session()
        try:
            session.create_training_job("warm-up", entry_point="noop.py", source_dir=src).wait(60)
            jobs = []
            for i in range(RUNS):
                t0 = time.perf_counter()
                job = session.create_training_job(
                    f"noop-{i}", entry_point="noop.py", source_dir=src
                )
                desc = job.wait(60)
                jobs.append(time.perf_counter() - t0)
                assert desc["training_job_status"] == "Completed", desc["failure_reason"]
        finally:
            session.close()
            stop_server(session.settings)

    d, j = statistics.median(direct), statistics.median(jobs)
    print(f"runs: {RUNS}")
    print(f"python noop.py directly      median {d * 1000:8.1f} ms")
    print(
        f"training job running it      median {j * 1000:8.1f} ms  (p90 {sorted(jobs)[int(0.9 * RUNS) - 1] * 1000:.1f} ms)"
    )
    print(f"overhead per job             {(j - d) * 1000:8.1f} ms   target < 500 ms")
    print(f"RESULT job_overhead_s {j - d:.3f}")


if __name__ == "__main__":
    main()
