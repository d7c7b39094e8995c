"""The training job's program, run by the job process (never by the server).

Phases follow SageMaker's secondary statuses: Downloading (channels and source
code into the job folder), Training (the user's script or a built-in, under
the container contract), Uploading (model/ packed into model.tar.gz and
output/data into output.tar.gz, both written atomically to the store).
"""

from __future__ import annotations

import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sageforge.core.jobs._process import ProcessOutcome
from sageforge.core.jobs.runner import COMPLETED, FAILED, STOPPED, JobFailure, JobResult, RunContext
from sageforge.train._contract import (
    TrainingPaths,
    training_env,
    user_args,
    write_config_files,
)


def run_training_job(ctx: RunContext) -> JobResult:
    """Download, train, upload; see the module docstring."""
    spec = ctx.spec
    paths = TrainingPaths(ctx.layout.root)
    paths.make()
    algo = spec["algorithm_specification"]
    hps: dict[str, str] = spec.get("hyper_parameters") or {}
    channels = {
        c["channel_name"]: _channel_config(c, algo) for c in spec.get("input_data_config", [])
    }

    ctx.events.status("Downloading", "Downloading input data")
    ctx.log("Downloading input data")
    for c in spec.get("input_data_config", []):
        url = c["data_source"]["s3_data_source"]["s3_uri"]
        mode = c.get("input_mode") or algo.get("training_input_mode", "File")
        try:
            n = ctx.store.download(
                url, paths.channel_dir(c["channel_name"]), link=mode == "FastFile"
            )
        except Exception as exc:
            raise JobFailure(
                f"ClientError: could not download channel {c['channel_name']!r} from {url}: {exc}"
            ) from exc
        ctx.log(f"channel {c['channel_name']}: {n} file(s) from {url}")
    entry_point = algo.get("entry_point")
    if entry_point:
        _fetch_source(ctx, algo.get("source_dir"), entry_point, paths.code_dir)
    write_config_files(paths, hps, channels)
    if ctx.stop.is_set():
        return JobResult(STOPPED, secondary_status=STOPPED)
    if entry_point and (paths.code_dir / "requirements.txt").is_file():
        failure = _install_requirements(ctx, paths)
        if failure is not None:
            return failure

    ctx.events.status("Training", "Training in progress")
    ctx.log("Training in progress")
    if entry_point:
        argv = [sys.executable, str(paths.code_dir / entry_point), *user_args(hps)]
        cwd = paths.code_dir
    else:
        argv = [sys.executable, "-m", "sageforge.train.algorithms", algo["algorithm_name"]]
        cwd = paths.root
    env = training_env(
        paths,
        job_name=ctx.name,
        job_arn=str(ctx.job["arn"]),
        hyperparameters=hps,
        channels=channels,
        entry_point=entry_point,
        module_dir=algo.get("source_dir"),
        extra=spec.get("environment") or {},
    )
    max_rt = (spec.get("stopping_condition") or {}).get("max_runtime_in_seconds")
    outcome = ctx.run(
        argv,
        env=env,
        cwd=cwd,
        metric_definitions=spec.get("resolved_metric_definitions") or [],
        max_runtime_s=float(max_rt) if max_rt else None,
    )

    if not outcome.succeeded and outcome.stop_reason is None:
        ctx.log(f"Training failed with exit code {outcome.returncode}")
        return JobResult(FAILED, failure_reason=_failure_reason(paths, outcome, bool(entry_point)))

    ctx.events.status("Uploading", "Uploading generated training model")
    ctx.log("Uploading generated training model")
    outputs = _upload(ctx, paths, spec)
    if outcome.stop_reason is not None:
        secondary = "MaxRuntimeExceeded" if outcome.stop_reason == "max_runtime" else STOPPED
        ctx.log(f"Training stopped ({secondary})")
        return JobResult(STOPPED, secondary_status=secondary, outputs=outputs)
    ctx.log("Training job completed")
    return JobResult(COMPLETED, outputs=outputs)


def _channel_config(channel: dict[str, Any], algo: dict[str, Any]) -> dict[str, Any]:
    """One channel's entry in inputdataconfig.json (SageMaker's keys)."""
    cfg: dict[str, Any] = {
        "TrainingInputMode": channel.get("input_mode") or algo.get("training_input_mode", "File"),
        "S3DistributionType": "FullyReplicated",
        "RecordWrapperType": "None",
    }
    if channel.get("content_type"):
        cfg["ContentType"] = channel["content_type"]
    return cfg


def _fetch_source(
    ctx: RunContext, source_dir: str | None, entry_point: str, code_dir: Path
) -> None:
    """Place the user's code in code/: a folder, a .tar.gz of one, or a single script."""
    code_dir.mkdir(parents=True, exist_ok=True)
    if not source_dir:
        raise JobFailure("ClientError: script mode needs a source_dir holding the entry point")
    try:
        if source_dir.endswith((".tar.gz", ".tgz")):
            with tempfile.TemporaryDirectory() as tmp:
                ctx.store.download(source_dir, tmp)
                archive = next(Path(tmp).rglob("*.t*gz"))
                with tarfile.open(archive) as tar:
                    tar.extractall(code_dir, filter="data")
        else:
            ctx.store.download(source_dir, code_dir)
    except JobFailure:
        raise
    except Exception as exc:
        raise JobFailure(f"ClientError: could not fetch source_dir {source_dir}: {exc}") from exc
    if not (code_dir / entry_point).is_file():
        raise JobFailure(
            f"ClientError: entry point {entry_point!r} is not in source_dir {source_dir}"
        )


def _install_requirements(ctx: RunContext, paths: TrainingPaths) -> JobResult | None:
    """`pip install -r requirements.txt` from the source dir, as the framework toolkit does.

    It installs into the interpreter the job runs with (the job's environment),
    so a requirement that is already satisfied costs no download; a new one needs
    the package index (or a `PIP_INDEX_URL`/`PIP_FIND_LINKS` mirror) to be reachable.
    """
    ctx.log("Installing requirements.txt from the source directory")
    argv = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "-r", "requirements.txt"]  # fmt: skip
    outcome = ctx.run(argv, env=dict(os.environ), cwd=paths.code_dir, max_runtime_s=1800.0)
    if outcome.succeeded:
        return None
    if outcome.stop_reason is not None:
        return JobResult(STOPPED, secondary_status=STOPPED)
    return JobResult(
        FAILED,
        failure_reason=(
            f"AlgorithmError: InstallRequirementsError: ExitCode {outcome.returncode}, "
            f'ErrorMessage "{outcome.error_message()}", Command "{outcome.command}"'
        ),
    )


def _failure_reason(paths: TrainingPaths, outcome: ProcessOutcome, script_mode: bool) -> str:
    """SageMaker's wording: the failure file if the code left one, else the script's error."""
    if paths.failure_file.is_file():
        text = paths.failure_file.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            return (
                text
                if text.startswith(("AlgorithmError", "ClientError"))
                else f"AlgorithmError: {text}"
            )
    if script_mode:
        return (
            f"AlgorithmError: ExecuteUserScriptError: ExitCode {outcome.returncode}, "
            f'ErrorMessage "{outcome.error_message()}", Command "{outcome.command}"'
        )
    return f"AlgorithmError: {outcome.error_message()} (exit code {outcome.returncode})"


def _upload(ctx: RunContext, paths: TrainingPaths, spec: dict[str, Any]) -> dict[str, Any]:
    """Pack and upload model/ and output/data/ to `<output path>/<job>/output/`."""
    base = str(spec["output_data_config"]["s3_output_path"]).rstrip("/") + f"/{ctx.name}/output"
    outputs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=ctx.layout.root) as tmp:
        model_tar = Path(tmp) / "model.tar.gz"
        _pack(paths.model_dir, model_tar)
        outputs["model_artifacts"] = f"{base}/model.tar.gz"
        ctx.store.upload(model_tar, outputs["model_artifacts"])
        if any(paths.output_data_dir.iterdir()):
            out_tar = Path(tmp) / "output.tar.gz"
            _pack(paths.output_data_dir, out_tar)
            outputs["output_data"] = f"{base}/output.tar.gz"
            ctx.store.upload(out_tar, outputs["output_data"])
    return outputs


def _pack(folder: Path, archive: Path) -> None:
    """A .tar.gz of the folder's contents (not the folder itself), as SageMaker packs model/."""
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for item in sorted(folder.iterdir()):
            tar.add(item, arcname=item.name)
