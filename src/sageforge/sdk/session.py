"""`sageforge.Session`: the Python entry point to a sageforge server.

With no URL configured, the session finds the local server of
`$SAGEFORGE_HOME` or starts one in the background, so a notebook needs no
set-up. Local files given as inputs are passed by path when the server runs on
this machine and uploaded through the API otherwise, so the same code works
against a laptop and a shared server.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from sageforge.core.config import Settings
from sageforge.core.errors import ValidationError
from sageforge.core.names import unique_name
from sageforge.sdk._client import ApiClient
from sageforge.sdk._data import DataMixin
from sageforge.sdk._jobs import ProcessingJob, TrainingJob
from sageforge.sdk._local_server import ensure_server

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Session(DataMixin):
    """A connection to one sageforge server; see the module docstring."""

    def __init__(self, url: str | None = None, *, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self.url = (url or self.settings.url or ensure_server(self.settings)).rstrip("/")
        self.api = ApiClient(self.url)
        self._server_is_local: bool | None = None

    def __repr__(self) -> str:
        return f"Session({self.url!r})"

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- data -------------------------------------------------------------------

    @property
    def server_is_local(self) -> bool:
        """True when the server shares this machine's file system (it can read our paths)."""
        if self._server_is_local is None:
            host = urlparse(self.url).hostname or ""
            same_host = host in _LOOPBACK or host == socket.gethostname()
            info = self.api.get("/info") if same_host else {}
            self._server_is_local = same_host and Path(str(info.get("home", ""))).exists()
        return self._server_is_local

    def upload(self, local_path: str | os.PathLike[str], key_prefix: str) -> str:
        """Upload a file or a folder under `key_prefix`; returns its `store://` URL."""
        path = Path(local_path)
        if not path.exists():
            raise ValidationError(f"{path} does not exist", field="local_path")
        prefix = key_prefix.strip("/")
        if path.is_file():
            key = f"{prefix}/{path.name}"
            with open(path, "rb") as fh:
                self.api.put_bytes(f"/store/{quote(key)}", fh)
            return f"store://{prefix}"
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            key = f"{prefix}/{file.relative_to(path).as_posix()}"
            with open(file, "rb") as fh:
                self.api.put_bytes(f"/store/{quote(key)}", fh)
        return f"store://{prefix}"

    def upload_bytes(self, data: bytes, key: str) -> str:
        """Write bytes under `key`; returns its `store://` URL."""
        self.api.put_bytes(f"/store/{quote(key.strip('/'))}", data)
        return f"store://{key.strip('/')}"

    def download(self, url: str, local_path: str | os.PathLike[str]) -> Path:
        """Fetch one store object (`store://key`) to a local file."""
        key = url.removeprefix("store://")
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        with self.api.stream(f"/store/{quote(key)}") as resp, open(tmp, "wb") as fh:
            for chunk in resp.iter_bytes():
                fh.write(chunk)
        os.replace(tmp, target)
        return target

    def read_bytes(self, url: str) -> bytes:
        """The whole content of one store object (`store://key`)."""
        return self.api.get_bytes(f"/store/{quote(url.removeprefix('store://'))}")

    def list_store(self, prefix: str = "") -> list[dict[str, Any]]:
        """Objects under a store prefix."""
        return list(self.api.get("/store", prefix=prefix or None)["objects"])

    def _as_url(self, value: str | os.PathLike[str], key_prefix: str) -> str:
        """A URL the server can read: URLs pass; local paths go by path or by upload."""
        text = os.fspath(value)
        if "://" in text:
            return text
        path = Path(text).expanduser().resolve()
        if not path.exists():
            raise ValidationError(
                f"{text} is neither a URL nor an existing local path", field="inputs"
            )
        if self.server_is_local:
            return str(path)
        return self.upload(path, key_prefix)

    # -- training -----------------------------------------------------------------

    def create_training_job(
        self,
        name: str | None = None,
        *,
        entry_point: str | None = None,
        source_dir: str | os.PathLike[str] | None = None,
        algorithm: str | None = None,
        inputs: Mapping[str, str | os.PathLike[str] | Mapping[str, Any]] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        metric_definitions: Sequence[Mapping[str, str]] | None = None,
        max_runtime_s: int | None = None,
        output_path: str | None = None,
        environment: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        input_mode: str = "File",
        base_name: str | None = None,
    ) -> TrainingJob:
        """Start a training job: a built-in `algorithm` or your `entry_point` in `source_dir`.

        `inputs` maps channel names to a URL or local path, or to a dict with `uri`
        and optionally `content_type`.
        """
        name = name or unique_name(base_name or algorithm or Path(entry_point or "job").stem)
        algo: dict[str, Any] = {"training_input_mode": input_mode}
        if algorithm:
            algo["algorithm_name"] = algorithm
        if entry_point:
            algo["entry_point"] = entry_point
            algo["source_dir"] = self._as_url(source_dir or ".", f"uploads/{name}/source")
        if metric_definitions:
            algo["metric_definitions"] = [dict(m) for m in metric_definitions]
        channels = []
        for channel, value in (inputs or {}).items():
            cfg = dict(value) if isinstance(value, Mapping) else {"uri": value}
            entry: dict[str, Any] = {
                "channel_name": channel,
                "data_source": {
                    "s3_data_source": {
                        "s3_uri": self._as_url(cfg["uri"], f"uploads/{name}/{channel}")
                    }
                },
            }
            if cfg.get("content_type"):
                entry["content_type"] = cfg["content_type"]
            channels.append(entry)
        body: dict[str, Any] = {
            "training_job_name": name,
            "algorithm_specification": algo,
            "hyper_parameters": {k: _hp(v) for k, v in (hyperparameters or {}).items()},
            "input_data_config": channels,
            "environment": dict(environment or {}),
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        }
        if max_runtime_s:
            body["stopping_condition"] = {"max_runtime_in_seconds": max_runtime_s}
        if output_path:
            body["output_data_config"] = {"s3_output_path": output_path}
        desc = self.api.post("/training-jobs", body)
        return TrainingJob(self, name, desc)

    def training_job(self, name: str) -> TrainingJob:
        """A handle on an existing training job (ResourceNotFound if there is none)."""
        job = TrainingJob(self, name)
        job.describe()
        return job

    def list_training_jobs(self, **filters: Any) -> list[dict[str, Any]]:
        """One page of ListTrainingJobs (`name_contains`, `status_equals`, `max_results` …)."""
        return list(self.api.get("/training-jobs", **filters)["training_job_summaries"])

    # -- processing ---------------------------------------------------------------

    def create_processing_job(
        self,
        name: str | None = None,
        *,
        script: str | os.PathLike[str] | None = None,
        command: Sequence[str] | None = None,
        arguments: Sequence[str] = (),
        inputs: Mapping[str, tuple[str | os.PathLike[str], str]] | None = None,
        outputs: Mapping[str, tuple[str, str]] | None = None,
        max_runtime_s: int | None = None,
        environment: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ProcessingJob:
        """Start a processing job running a local `script` (or any `command`).

        `inputs` maps names to (URL or local path, container path under
        /opt/ml/processing); `outputs` maps names to (container path, URL).
        """
        if (script is None) == (command is None):
            raise ValidationError("give exactly one of script or command", field="script")
        name = name or unique_name(Path(os.fspath(script)).stem if script else "processing")
        proc_inputs = []
        for input_name, (src, local) in (inputs or {}).items():
            proc_inputs.append(
                {
                    "input_name": input_name,
                    "s3_input": {
                        "s3_uri": self._as_url(src, f"uploads/{name}/{input_name}"),
                        "local_path": local,
                    },
                }
            )
        if script is not None:
            code = Path(os.fspath(script))
            proc_inputs.append(
                {
                    "input_name": "code",
                    "s3_input": {
                        "s3_uri": self._as_url(code, f"uploads/{name}/code"),
                        "local_path": "/opt/ml/processing/input/code",
                    },
                }
            )
            command = ["python3", f"/opt/ml/processing/input/code/{code.name}"]
        body: dict[str, Any] = {
            "processing_job_name": name,
            "app_specification": {
                "container_entrypoint": list(command or []),
                "container_arguments": list(arguments),
            },
            "processing_inputs": proc_inputs,
            "processing_output_config": {
                "outputs": [
                    {"output_name": n, "s3_output": {"local_path": local, "s3_uri": url}}
                    for n, (local, url) in (outputs or {}).items()
                ]
            },
            "environment": dict(environment or {}),
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        }
        if max_runtime_s:
            body["stopping_condition"] = {"max_runtime_in_seconds": max_runtime_s}
        desc = self.api.post("/processing-jobs", body)
        return ProcessingJob(self, name, desc)

    def create_evaluation_job(
        self,
        *,
        model: str,
        algorithm: str,
        data: str | os.PathLike[str],
        content_type: str = "text/csv",
        problem_type: str | None = None,
        output_path: str | None = None,
        name: str | None = None,
        title: str | None = None,
    ) -> ProcessingJob:
        """Score a model.tar.gz on labelled data in a processing job.

        The job writes `evaluation.json` and `report.html` to `output_path`
        (default `store://evaluations/<job name>`).
        """
        name = name or unique_name(f"evaluate-{algorithm}")
        output_path = output_path or f"store://evaluations/{name}"
        arguments = [
            "-m", "sageforge.train._evaluation_job",
            "--algorithm", algorithm,
            "--model", "/opt/ml/processing/model",
            "--data", "/opt/ml/processing/input/data",
            "--content-type", content_type,
            "--output", "/opt/ml/processing/evaluation",
            "--title", title or f"Evaluation of {model}",
        ]  # fmt: skip
        if problem_type:
            arguments += ["--problem-type", problem_type]
        return self.create_processing_job(
            name,
            command=["python3"],
            arguments=arguments,
            inputs={
                "model": (model, "/opt/ml/processing/model"),
                "data": (data, "/opt/ml/processing/input/data"),
            },
            outputs={"evaluation": ("/opt/ml/processing/evaluation", output_path)},
        )

    def processing_job(self, name: str) -> ProcessingJob:
        """A handle on an existing processing job."""
        job = ProcessingJob(self, name)
        job.describe()
        return job

    def list_processing_jobs(self, **filters: Any) -> list[dict[str, Any]]:
        """One page of ListProcessingJobs."""
        return list(self.api.get("/processing-jobs", **filters)["processing_job_summaries"])


def _hp(value: Any) -> str:
    """Hyperparameters travel as strings, as in SageMaker's API."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
