"""Asynchronous inference: the input is read from the store, the answer written back to it.

`POST /endpoints/{name}/async-invocations` with `X-Amzn-SageMaker-InputLocation`
answers 202 at once with the inference id and where the output will appear
(`<s3_output_path>/<inference id>.out`, or `<s3_failure_path>/<id>-error.out`
when the model fails). A bounded pool per server sends the requests through
the endpoint like any other request (capture and metrics included); the
answer is written atomically, so a poller sees it whole or not at all.

Each invocation also has a small record on disk, written atomically: under
`<home>/endpoints/_async/pending/<endpoint>/` while it is Queued or
InProgress, moved to `done/<endpoint>/` when it ends Completed or Failed.
Polling reads the done record (memory keeps only the unfinished ones), and a
server that stopped with invocations pending runs them again when it starts,
waiting for their endpoint to be back in service: the input is still in the
store, so nothing accepted is lost and nothing is left InProgress forever.
Start-up reads only the pending records, however many have finished.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from sageforge.core.errors import ResourceNotFound, ValidationError
from sageforge.core.jobs._layout import read_json, write_json_atomic
from sageforge.core.store import ArtifactStore
from sageforge.deploy._service import CREATING, IN_SERVICE, SYSTEM_UPDATING, UPDATING

log = logging.getLogger("sageforge.deploy")

QUEUED, IN_PROGRESS, COMPLETED, FAILED = "Queued", "InProgress", "Completed", "Failed"
ENDPOINT_WAIT_S = 600.0
"""How long a resumed invocation waits for its endpoint to come back before it fails."""


class AsyncInvoker:
    """Queues and runs asynchronous invocations; see the module docstring."""

    def __init__(
        self, store: ArtifactStore, deploy: Any, records: Path, max_workers: int = 8
    ) -> None:
        self.store = store
        self.deploy = deploy
        self.records = records
        self._pool = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="async-inference"
        )
        self._http = httpx.Client(timeout=3600.0, trust_env=False)
        self._jobs: dict[tuple[str, str], dict[str, Any]] = {}
        """The unfinished invocations, by (endpoint, inference id)."""
        self._lock = threading.Lock()

    def submit(
        self,
        endpoint: str,
        input_location: str | None,
        *,
        content_type: str | None,
        accept: str | None,
        inference_id: str | None,
        custom_attributes: str | None,
    ) -> dict[str, Any]:
        """Queue one invocation; returns its id and output locations."""
        row = self.deploy.endpoints.get(endpoint)
        config = self.deploy.configs.get(row.config_name).spec
        settings = config.get("async_inference_config")
        if not settings:
            raise ValidationError(
                f"endpoint {endpoint!r} has no async_inference_config; invoke it synchronously",
                field="endpoint_name",
            )
        if not input_location:
            raise ValidationError(
                "X-Amzn-SageMaker-InputLocation is required", field="InputLocation"
            )
        fs, path = self.store.resolve(input_location, field="InputLocation")
        if not fs.isfile(path):
            raise ValidationError(f"nothing found at {input_location}", field="InputLocation")
        if inference_id is not None and not 1 <= len(inference_id) <= 64:
            raise ValidationError("InferenceId: 1 to 64 characters", field="InferenceId")
        iid = inference_id or str(uuid.uuid4())
        out = settings["output_config"]
        output = f"{out['s3_output_path'].rstrip('/')}/{iid}.out"
        failure_base = out.get("s3_failure_path") or out["s3_output_path"]
        failure = f"{failure_base.rstrip('/')}/{iid}-error.out"
        headers = {"content-type": content_type or "application/octet-stream", "accept": accept or "*/*",
                   "x-amzn-sagemaker-inference-id": iid}  # fmt: skip
        if custom_attributes:
            headers["x-amzn-sagemaker-custom-attributes"] = custom_attributes
        job = {
            "inference_id": iid,
            "endpoint_name": endpoint,
            "status": QUEUED,
            "output_location": output,
            "failure_location": failure,
            "input_location": input_location,
            "headers": headers,
            "creation_time": time.time(),
        }
        self._queue(job)
        return _public(job)

    def resume(self) -> None:
        """Run again what a stopped server left Queued or InProgress (see the module docstring)."""
        if not self.records.is_dir():
            return
        for path in sorted(self.records.glob("pending/*/*.json")):
            job = read_json(path)
            if not isinstance(job, dict):
                continue
            if self._record(job["endpoint_name"], job["inference_id"], done=True).exists():
                path.unlink()  # ended just before a crash took the server
                continue
            if job.get("status") in (QUEUED, IN_PROGRESS):
                log.info("resuming asynchronous invocation %s", job.get("inference_id"))
                job["status"] = QUEUED
                self._queue(job)

    def _queue(self, job: dict[str, Any]) -> None:
        with self._lock:
            self._jobs[job["endpoint_name"], job["inference_id"]] = job
        self._save(job)
        self._pool.submit(self._run, job)

    def _run(self, job: dict[str, Any]) -> None:
        job["status"] = IN_PROGRESS
        self._save(job)
        deadline = time.monotonic() + ENDPOINT_WAIT_S
        try:
            fs, path = self.store.resolve(job["input_location"])
            body = bytes(fs.cat_file(path))
            while True:
                rt = self._runtime(job["endpoint_name"], deadline)
                resp = self._http.post(
                    f"{rt.url}/invocations", content=body, headers=job["headers"]
                )
                if resp.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # a fleet being swapped in: no variant takes traffic yet
        except Exception as exc:
            self._write(job["failure_location"], f"{type(exc).__name__}: {exc}".encode())
            self._end(job, status=FAILED, failure_reason=str(exc))
            return
        if resp.status_code >= 400:
            self._write(job["failure_location"], resp.content)
            self._end(
                job, status=FAILED, failure_reason=f"HTTP {resp.status_code}: {resp.text[:500]}"
            )
            return
        self._write(job["output_location"], resp.content)
        self._end(job, status=COMPLETED, content_type=resp.headers.get("content-type"),
                  invoked_production_variant=resp.headers.get("x-amzn-invoked-production-variant"))  # fmt: skip

    def _runtime(self, endpoint: str, deadline: float) -> Any:
        """The endpoint's running fleet, once it serves (after a restart it is being restored)."""
        while True:
            try:
                status = self.deploy.endpoints.get(endpoint).status
            except ResourceNotFound:
                raise RuntimeError(f"endpoint {endpoint!r} no longer exists") from None
            rt = self.deploy.supervisor.get(endpoint)
            if rt is not None and status in (IN_SERVICE, UPDATING):
                return rt
            if status not in (CREATING, SYSTEM_UPDATING) or time.monotonic() > deadline:
                raise RuntimeError(f"endpoint {endpoint!r} is {status}, not serving")
            time.sleep(0.2)

    def _end(self, job: dict[str, Any], **fields: Any) -> None:
        job.update(fields, end_time=time.time())
        self._save(job, done=True)
        self._record(job["endpoint_name"], job["inference_id"]).unlink(missing_ok=True)
        with self._lock:
            self._jobs.pop((job["endpoint_name"], job["inference_id"]), None)

    def _record(self, endpoint: str, inference_id: str, *, done: bool = False) -> Path:
        # Inference ids are the client's text: the file is named by a digest of it.
        digest = hashlib.sha256(inference_id.encode()).hexdigest()[:32]
        return self.records / ("done" if done else "pending") / endpoint / f"{digest}.json"

    def _save(self, job: dict[str, Any], *, done: bool = False) -> None:
        path = self._record(job["endpoint_name"], job["inference_id"], done=done)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, job)

    def _write(self, url: str, data: bytes) -> None:
        key = self.store.key_of(url)
        if key is not None:
            self.store.put_bytes(key, data)
            return
        import os
        import tempfile

        with tempfile.NamedTemporaryFile(delete=False) as tmp:
            tmp.write(data)
        try:
            self.store.upload(tmp.name, url)
        finally:
            os.unlink(tmp.name)

    def status(self, endpoint: str, inference_id: str) -> dict[str, Any]:
        """Where an invocation stands: from memory while it runs, from its record once done."""
        job = self._jobs.get((endpoint, inference_id))
        if job is None:
            job = read_json(self._record(endpoint, inference_id, done=True))
        if isinstance(job, dict) and job.get("inference_id") == inference_id:
            return _public(job)
        raise ResourceNotFound(
            f"no asynchronous invocation {inference_id!r} on endpoint {endpoint!r} "
            "(poll its output location in the store instead)",
            field="inference_id",
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()


def _public(job: dict[str, Any]) -> dict[str, Any]:
    """What a poller sees: the record without the request's own headers."""
    return {k: v for k, v in job.items() if k != "headers"}
