"""The processing job's program, run by the job process (never by the server).

Inputs are copied to their local paths, the command runs with container paths
(/opt/ml/...) in its arguments mapped into the job folder, and each output
folder is uploaded to its URL when the command succeeds (SageMaker's
EndOfJob upload mode).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from sageforge.core.jobs._layout import OPT_ML, JobLayout
from sageforge.core.jobs.runner import COMPLETED, FAILED, STOPPED, JobFailure, JobResult, RunContext

_PYTHONS = {"python", "python3", "python3.11", "/usr/bin/python3", "/usr/local/bin/python3"}


def run_processing_job(ctx: RunContext) -> JobResult:
    """Download, run, upload; see the module docstring."""
    spec = ctx.spec
    layout = ctx.layout
    inputs = spec.get("processing_inputs", [])
    outputs = (spec.get("processing_output_config") or {}).get("outputs", [])

    ctx.events.status("Downloading", "Downloading input data")
    for item in inputs:
        s3 = item["s3_input"]
        dest = Path(layout.map_opt_ml(s3["local_path"]))
        try:
            n = ctx.store.download(s3["s3_uri"], dest)
        except Exception as exc:
            raise JobFailure(
                f"ClientError: could not download input {item['input_name']!r} "
                f"from {s3['s3_uri']}: {exc}"
            ) from exc
        ctx.log(
            f"input {item['input_name']}: {n} file(s) from {s3['s3_uri']} to {s3['local_path']}"
        )
    for item in outputs:
        Path(layout.map_opt_ml(item["s3_output"]["local_path"])).mkdir(parents=True, exist_ok=True)
    _write_config(layout, spec)
    if ctx.stop.is_set():
        return JobResult(STOPPED)

    ctx.events.status("Processing", "Running the processing command")
    app = spec["app_specification"]
    argv = [
        map_arg(layout, a)
        for a in [*app["container_entrypoint"], *app.get("container_arguments", [])]
    ]
    if argv[0] in _PYTHONS:
        argv[0] = sys.executable
    env = {
        **os.environ,
        **(spec.get("environment") or {}),
        "PYTHONUNBUFFERED": "1",
        "SAGEFORGE_OPT_ML": str(layout.root),
        "PROCESSING_JOB_NAME": ctx.name,
    }
    max_rt = (spec.get("stopping_condition") or {}).get("max_runtime_in_seconds")
    outcome = ctx.run(
        argv,
        env=env,
        cwd=layout.root,
        max_runtime_s=float(max_rt) if max_rt else None,
    )
    if outcome.stop_reason is not None:
        secondary = "MaxRuntimeExceeded" if outcome.stop_reason == "max_runtime" else STOPPED
        return JobResult(STOPPED, secondary_status=secondary)
    if not outcome.succeeded:
        return JobResult(
            FAILED,
            failure_reason=f"AlgorithmError: {outcome.error_message()} "
            f"(exit code {outcome.returncode}, command: {outcome.command})",
        )

    ctx.events.status("Uploading", "Uploading outputs")
    uploaded: dict[str, Any] = {}
    for item in outputs:
        s3 = item["s3_output"]
        local = Path(layout.map_opt_ml(s3["local_path"]))
        files = sorted(p for p in local.rglob("*") if p.is_file())
        base = s3["s3_uri"].rstrip("/")
        for path in files:
            ctx.store.upload(path, f"{base}/{path.relative_to(local).as_posix()}")
        uploaded[item["output_name"]] = {"s3_uri": base, "files": len(files)}
        ctx.log(f"output {item['output_name']}: {len(files)} file(s) to {base}")
    return JobResult(COMPLETED, outputs={"processing_outputs": uploaded})


def map_arg(layout: JobLayout, arg: str) -> str:
    """Map a container path in an argument (`/opt/ml/x` or `--flag=/opt/ml/x`) to the job folder."""
    if arg.startswith(OPT_ML):
        return layout.map_opt_ml(arg)
    key, sep, value = arg.partition("=")
    if sep and value.startswith(OPT_ML):
        return f"{key}={layout.map_opt_ml(value)}"
    return arg


def _write_config(layout: JobLayout, spec: dict[str, Any]) -> None:
    """`/opt/ml/config/processingjobconfig.json`, which SageMaker gives every processing job."""
    cfg = layout.root / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "processingjobconfig.json").write_text(json.dumps(spec, default=str))
