"""`sageforge.Predictor`: invoke an endpoint as the SageMaker SDK's Predictor does.

    predictor = model.deploy(instance_count=1)
    predictor.predict(np.array([[0.1, 0.2, 0.3]]))      # CSV out, scores back as an array
    predictor.predict({"instances": [[0.1, 0.2, 0.3]]}, content_type="application/json")

Requests go through the server's runtime route (`/endpoints/{name}/invocations`)
by default, or straight to the endpoint's own URL with `direct=True` (one hop
less, for a client on the same machine). Answers come back decoded by their
content type: CSV as a numpy array, JSON as Python objects, NPY as an array.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from sageforge.core.errors import SageforgeError, ServerUnavailable, Throttled, error_from_dict

if TYPE_CHECKING:
    from sageforge.sdk.session import Session

CSV, JSON, JSONLINES, NPY = (
    "text/csv",
    "application/json",
    "application/jsonlines",
    "application/x-npy",
)
BUSY = ("Creating", "Updating", "SystemUpdating", "Deleting")
THROTTLE_ATTEMPTS = 3
"""Tries of an invocation a serverless variant throttles (boto3's standard retry mode tries 3 times)."""
THROTTLE_BACKOFF_S = 0.1
"""Upper bound of the first retry's random wait; it doubles with each retry."""


class ModelError(SageforgeError):
    """The model's own code failed (HTTP 5xx from the endpoint); `log` holds its traceback."""

    code = "ModelError"
    http_status = 500

    def __init__(self, message: str, *, log: str = "", status: int = 500) -> None:
        super().__init__(message)
        self.log = log
        self.status = status


class EndpointFailed(SageforgeError):
    """An endpoint ended Failed while the SDK waited for it."""

    code = "EndpointFailed"
    http_status = 500


@dataclass(frozen=True)
class Invocation:
    """A raw answer: body, content type, the variant that answered, custom attributes."""

    body: bytes
    content_type: str
    variant: str | None
    custom_attributes: str | None = None


def serialize(data: Any, content_type: str) -> bytes:
    """Turn `data` into a request body of `content_type` (bytes and str pass unchanged)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    base = content_type.split(";", 1)[0].strip().lower()
    if hasattr(data, "to_numpy") and not isinstance(data, Mapping):  # pandas / polars frames
        data = data.to_numpy()
    if base == CSV:
        import numpy as np

        arr = np.asarray(data)
        if arr.ndim <= 1:
            arr = arr.reshape(1, -1)
        return "\n".join(",".join(_num(v) for v in row) for row in arr.tolist()).encode()
    if base == NPY:
        import numpy as np

        buf = io.BytesIO()
        np.save(buf, np.asarray(data), allow_pickle=False)
        return buf.getvalue()
    if base == JSONLINES:
        return "\n".join(json.dumps(_plain(r)) for r in data).encode()
    return json.dumps(_plain(data)).encode()  # as SageMaker's JSONSerializer: the data as it is


def _num(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def deserialize(body: bytes, content_type: str) -> Any:
    """Decode an answer by its content type: CSV to an array, JSON to objects, NPY to an array."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base == CSV:
        import numpy as np

        rows = [r.split(",") for r in body.decode().splitlines() if r.strip()]
        try:
            arr = np.asarray(rows, dtype=np.float64)
        except ValueError:
            return body.decode()
        return arr[:, 0] if arr.ndim == 2 and arr.shape[1] == 1 else arr
    if base == JSON:
        return json.loads(body)
    if base in (JSONLINES, "application/x-jsonlines"):
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    if base == NPY:
        import numpy as np

        return np.load(io.BytesIO(body), allow_pickle=False)
    return body


class Predictor:
    """Invokes one endpoint; see the module docstring."""

    def __init__(
        self,
        endpoint_name: str,
        session: Session | None = None,
        *,
        content_type: str = CSV,
        accept: str | None = None,
        direct: bool = False,
        timeout: float = 60.0,
    ) -> None:
        if session is None:
            from sageforge.sdk.session import Session

            session = Session()
        self.endpoint_name = endpoint_name
        self.session = session
        self.content_type = content_type
        self.accept = accept
        self.direct = direct
        self._http = httpx.Client(timeout=timeout, trust_env=False)
        self._url: str | None = None

    def __repr__(self) -> str:
        return f"Predictor({self.endpoint_name!r})"

    @property
    def url(self) -> str:
        """Where invocations go: the runtime route, or the endpoint's own URL when `direct`."""
        if self._url is None:
            if self.direct:
                self._url = f"{self.describe()['endpoint_url']}/invocations"
            else:
                self._url = f"{self.session.url}/endpoints/{quote(self.endpoint_name)}/invocations"
        return self._url

    def invoke(
        self,
        body: bytes,
        content_type: str | None = None,
        accept: str | None = None,
        *,
        target_variant: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
    ) -> Invocation:
        """One InvokeEndpoint call with a ready body; raises the endpoint's error as ours."""
        headers = {"content-type": content_type or self.content_type}
        if accept or self.accept:
            headers["accept"] = accept or self.accept or ""
        if target_variant:
            headers["x-amzn-sagemaker-target-variant"] = target_variant
        if inference_id:
            headers["x-amzn-sagemaker-inference-id"] = inference_id
        if custom_attributes:
            headers["x-amzn-sagemaker-custom-attributes"] = custom_attributes
        for attempt in range(THROTTLE_ATTEMPTS):
            try:
                resp = self._http.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                raise ServerUnavailable(
                    f"cannot reach endpoint {self.endpoint_name}: {exc}"
                ) from None
            if resp.status_code < 400:
                break
            error = _invoke_error(resp)
            if not isinstance(error, Throttled) or attempt == THROTTLE_ATTEMPTS - 1:
                raise error
            time.sleep(random.uniform(0, THROTTLE_BACKOFF_S * 2**attempt))
        return Invocation(
            resp.content,
            resp.headers.get("content-type", ""),
            resp.headers.get("x-amzn-invoked-production-variant"),
            resp.headers.get("x-amzn-sagemaker-custom-attributes"),
        )

    def predict(
        self,
        data: Any,
        content_type: str | None = None,
        accept: str | None = None,
        *,
        target_variant: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
        raw: bool = False,
    ) -> Any:
        """Serialize `data`, invoke, and decode the answer (its raw bytes with `raw=True`)."""
        ctype = content_type or self.content_type
        answer = self.invoke(
            serialize(data, ctype),
            ctype,
            accept,
            target_variant=target_variant,
            inference_id=inference_id,
            custom_attributes=custom_attributes,
        )
        return answer.body if raw else deserialize(answer.body, answer.content_type)

    # -- the endpoint -----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """DescribeEndpoint, with per-variant metrics."""
        return dict(self.session.api.get(f"/endpoints/{quote(self.endpoint_name)}"))

    def wait(self, timeout: float = 600.0) -> dict[str, Any]:
        """Block until the endpoint is no longer Creating/Updating; raise if it Failed."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, min(30.0, deadline - time.monotonic()))
            desc = self.session.api.get(
                f"/endpoints/{quote(self.endpoint_name)}/wait", timeout=left
            )
            if desc["endpoint_status"] not in BUSY:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.endpoint_name} still {desc['endpoint_status']} after {timeout}s"
                )
        if desc["endpoint_status"] == "Failed":
            raise EndpointFailed(
                f"endpoint {self.endpoint_name} failed: {desc.get('failure_reason')}"
            )
        self._url = None
        return dict(desc)

    def metrics(self) -> dict[str, Any]:
        """Per-variant time series (invocations, errors, latency percentiles)."""
        return dict(self.session.api.get(f"/endpoints/{quote(self.endpoint_name)}/metrics"))

    def update_endpoint(
        self,
        endpoint_config_name: str,
        *,
        deployment_config: Mapping[str, Any] | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """UpdateEndpoint to another configuration, with a blue/green deployment policy."""
        body: dict[str, Any] = {"endpoint_config_name": endpoint_config_name}
        if deployment_config:
            body["deployment_config"] = dict(deployment_config)
        desc = self.session.api.post(f"/endpoints/{quote(self.endpoint_name)}/update", body)
        return self.wait() if wait else dict(desc)

    def update_weights_and_capacities(
        self, desired: Mapping[str, Mapping[str, Any]], *, wait: bool = True
    ) -> dict[str, Any]:
        """`{"VariantA": {"desired_weight": 1, "desired_instance_count": 2}, ...}`."""
        body = {
            "desired_weights_and_capacities": [
                {"variant_name": k, **dict(v)} for k, v in desired.items()
            ]
        }
        desc = self.session.api.post(
            f"/endpoints/{quote(self.endpoint_name)}/weights-and-capacities", body
        )
        return self.wait() if wait else dict(desc)

    def invoke_async(
        self, input_location: str, *, content_type: str | None = None, accept: str | None = None,
        inference_id: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """InvokeEndpointAsync: the input is read from the store; returns where the output goes."""
        headers = {"x-amzn-sagemaker-inputlocation": input_location,
                   "content-type": content_type or self.content_type}  # fmt: skip
        if accept:
            headers["accept"] = accept
        if inference_id:
            headers["x-amzn-sagemaker-inference-id"] = inference_id
        resp = self._http.post(
            f"{self.session.url}/endpoints/{quote(self.endpoint_name)}/async-invocations",
            headers=headers,
        )
        if resp.status_code >= 400:
            raise _invoke_error(resp)
        return dict(resp.json())

    def async_result(self, inference_id: str) -> dict[str, Any]:
        """Where an asynchronous invocation stands (status, output and failure locations)."""
        return dict(
            self.session.api.get(
                f"/endpoints/{quote(self.endpoint_name)}/async-invocations/{inference_id}"
            )
        )

    def delete_endpoint(self, wait: bool = True, timeout: float = 120.0) -> None:
        """DeleteEndpoint; with `wait`, return once it is gone."""
        from sageforge.core.errors import ResourceNotFound

        self._http.close()
        self.session.api.request("DELETE", f"/endpoints/{quote(self.endpoint_name)}")
        deadline = time.monotonic() + timeout
        while wait and time.monotonic() < deadline:
            try:
                self.session.api.get(f"/endpoints/{quote(self.endpoint_name)}/wait", timeout=10)
            except ResourceNotFound:
                return

    def close(self) -> None:
        """Close the pooled connections (the endpoint itself keeps running)."""
        self._http.close()

    def __enter__(self) -> Predictor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _invoke_error(resp: httpx.Response) -> SageforgeError:
    try:
        body = resp.json()
    except ValueError:
        body = {"error": {"type": "", "message": resp.text[:500]}}
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("type") == "ModelError":
        log = str(err.get("log", ""))
        return ModelError(str(err.get("message", "")), log=log, status=resp.status_code)
    exc = error_from_dict(body, resp.status_code)
    exc.http_status = resp.status_code
    return exc
