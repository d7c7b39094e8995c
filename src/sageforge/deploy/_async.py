"""Asynchronous inference: the input is read from the store, the answer written back to it.

`POST /endpoints/{name}/async-invocations` with `X-Amzn-SageMaker-InputLocation`
answers 202 at once with the inference id and where the output will appear
(`<s3_output_path>/<inference id>.out`, or `<s3_failure_path>/<id>-error.out`
when the model fails). A bounded pool per server sends the requests through
the endpoint like any other request (capture and metrics included); the
answer is written atomically, so a poller sees it whole or not at all.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from sageforge.core.errors import ResourceNotFound, ValidationError
from sageforge.core.store import ArtifactStore

QUEUED, IN_PROGRESS, COMPLETED, FAILED = "Queued", "InProgress", "Completed", "Failed"


class AsyncInvoker:
    """Queues and runs asynchronous invocations; see the module docstring."""

    def __init__(self, store: ArtifactStore, deploy: Any, max_workers: int = 8) -> None:
        self.store = store
        self.deploy = deploy
        self._pool = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="async-inference"
        )
        self._http = httpx.Client(timeout=3600.0, trust_env=False)
        self._jobs: dict[str, dict[str, Any]] = {}
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
        iid = inference_id or str(uuid.uuid4())
        out = settings["output_config"]
        output = f"{out['s3_output_path'].rstrip('/')}/{iid}.out"
        failure_base = out.get("s3_failure_path") or out["s3_output_path"]
        failure = f"{failure_base.rstrip('/')}/{iid}-error.out"
        job = {
            "inference_id": iid,
            "endpoint_name": endpoint,
            "status": QUEUED,
            "output_location": output,
            "failure_location": failure,
        }
        with self._lock:
            self._jobs[iid] = job
        headers = {"content-type": content_type or "application/octet-stream", "accept": accept or "*/*",
                   "x-amzn-sagemaker-inference-id": iid[:64]}  # fmt: skip
        if custom_attributes:
            headers["x-amzn-sagemaker-custom-attributes"] = custom_attributes
        self._pool.submit(self._run, job, input_location, headers)
        return dict(job)

    def _run(self, job: dict[str, Any], input_location: str, headers: dict[str, str]) -> None:
        job["status"] = IN_PROGRESS
        try:
            fs, path = self.store.resolve(input_location)
            body = bytes(fs.cat_file(path))
            rt = self.deploy.supervisor.get(job["endpoint_name"])
            if rt is None:
                raise RuntimeError("the endpoint is not running")
            resp = self._http.post(f"{rt.url}/invocations", content=body, headers=headers)
        except Exception as exc:
            self._write(job["failure_location"], f"{type(exc).__name__}: {exc}".encode())
            job.update(status=FAILED, failure_reason=str(exc))
            return
        if resp.status_code >= 400:
            self._write(job["failure_location"], resp.content)
            job.update(status=FAILED, failure_reason=f"HTTP {resp.status_code}: {resp.text[:500]}")
            return
        self._write(job["output_location"], resp.content)
        job.update(status=COMPLETED, content_type=resp.headers.get("content-type"),
                   invoked_production_variant=resp.headers.get("x-amzn-invoked-production-variant"))  # fmt: skip

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
        """Where an invocation stands; answers for finished ones from the store after a restart."""
        job = self._jobs.get(inference_id)
        if job is not None and job["endpoint_name"] == endpoint:
            return dict(job)
        raise ResourceNotFound(
            f"no asynchronous invocation {inference_id!r} on endpoint {endpoint!r} "
            "(poll its output location in the store instead)",
            field="inference_id",
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()
