"""InvokeEndpoint and InvokeEndpointAsync in sagemaker-runtime's rest-json form.

An invocation goes through the deploy service's own runtime route (the same
pooled hop as `POST /endpoints/{name}/invocations` on the native port), so the
endpoint's workers route variants, capture data and count metrics as for any
request. Only the edges are SageMaker's: its headers in, its errors out. An
error the model's container answers is a `ModelError` (424) carrying the
container's status and message, as SageMaker reports it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError
from sageforge.compat.sagemaker._urls import to_s3, to_store
from sageforge.core.errors import ResourceNotFound, SageforgeError
from sageforge.deploy._router import EndpointUnavailable, RuntimeRoute

MAX_PAYLOAD = 6 * 1024 * 1024
"""SageMaker's limit on a real-time request body (6 MB)."""

_FORWARDED = (
    b"content-type",
    b"accept",
    b"x-amzn-sagemaker-custom-attributes",
    b"x-amzn-sagemaker-target-variant",
    b"x-amzn-sagemaker-inference-id",
)
_ANSWERED = (
    b"content-type",
    b"x-amzn-invoked-production-variant",
    b"x-amzn-sagemaker-custom-attributes",
)
_UNSUPPORTED = {
    "x-amzn-sagemaker-target-model": "TargetModel (multi-model endpoints)",
    "x-amzn-sagemaker-target-container-hostname": "TargetContainerHostname (direct pipelines)",
    "x-amzn-sagemaker-inference-component": "InferenceComponentName (inference components)",
}

_route = RuntimeRoute()


def validation_error(message: str) -> AwsError:
    """sagemaker-runtime's ValidationError (its own code, not the control plane's)."""
    return AwsError("ValidationError", message)


def _not_found(ctx: AwsContext, name: str) -> AwsError:
    return validation_error(f"Endpoint {name} of account {ctx.account} not found.")


def _endpoint(ctx: AwsContext, name: str) -> Any:
    deploy = ctx.platform.services["deploy"]
    try:
        return deploy.endpoints.get(name)
    except ResourceNotFound:
        raise _not_found(ctx, name) from None


def _log_stream(ctx: AwsContext, name: str) -> str:
    return f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:/aws/sagemaker/Endpoints/{name}"


def _error_message(body: bytes) -> str:
    """The message of a worker's error answer (or its start, if it is not one)."""
    try:
        err = json.loads(body).get("error") or {}
        return str(err.get("message") or body[:1000].decode("utf-8", "replace"))
    except (ValueError, AttributeError):
        return body[:1000].decode("utf-8", "replace")


def _model_error(ctx: AwsContext, name: str, status: int, body: bytes, variant: str) -> AwsError:
    message = _error_message(body)
    side = "client" if status < 500 else "server"
    stream = _log_stream(ctx, name)
    return AwsError(
        "ModelError",
        f'Received {side} error ({status}) from {variant or "primary"} with message "{message}". '
        f"See {stream} in account {ctx.account} for more information.",
        status=424,
        OriginalStatusCode=status,
        OriginalMessage=message,
        LogStreamArn=stream,
    )


async def invoke(ctx: AwsContext, request: Request, name: str) -> Response:
    row = _endpoint(ctx, name)
    headers = request.headers
    for header, what in _UNSUPPORTED.items():
        if headers.get(header):
            raise validation_error(f"{what} is not supported by sageforge endpoints")
    inference_id = headers.get("x-amzn-sagemaker-inference-id")
    if inference_id is not None and not 1 <= len(inference_id) <= 64:
        raise validation_error("InferenceId: must be 1 to 64 characters")
    target = headers.get("x-amzn-sagemaker-target-variant")
    variants = [v["variant_name"] for v in (row.state or {}).get("variants") or []]
    if target is not None and variants and target not in variants:
        raise validation_error(
            f"The variant {target} specified in TargetVariant does not exist for endpoint "
            f"{name}; it has {', '.join(variants)}."
        )
    if row.status not in ("InService", "Updating", "SystemUpdating"):
        raise validation_error(
            f"Endpoint {name} of account {ctx.account} is {row.status}; invoke it once it is "
            "InService."
        )
    body = await request.body()
    if len(body) > MAX_PAYLOAD:
        raise validation_error(
            f"Request body of {len(body)} bytes is larger than the limit of {MAX_PAYLOAD} bytes."
        )
    forwarded = [(k, v) for k, v in request.scope["headers"] if k in _FORWARDED]
    deploy = ctx.platform.services["deploy"]
    try:
        status, out_headers, out = await _route.forward(deploy, name, forwarded, body)
    except EndpointUnavailable as exc:
        if exc.status == 404:
            raise _not_found(ctx, name) from None
        if exc.status == 503:
            raise AwsError("ServiceUnavailable", exc.message, status=503) from None
        raise validation_error(exc.message) from None
    answered = {k: v for k, v in out_headers}
    variant = answered.get(b"x-amzn-invoked-production-variant", b"").decode("latin-1")
    if status >= 400:
        if status == 503:
            raise AwsError("ServiceUnavailable", out[:1000].decode("utf-8", "replace"), status=503)
        if status == 429:  # a serverless variant past its MaxConcurrency; boto3 retries it
            raise AwsError("ThrottlingException", _error_message(out), status=429)
        raise _model_error(ctx, name, status, out, variant)
    reply = {k.decode("latin-1"): v.decode("latin-1") for k, v in out_headers if k in _ANSWERED}
    reply["x-Amzn-Invoked-Production-Variant"] = reply.pop(
        "x-amzn-invoked-production-variant", variant
    )
    return Response(out, status_code=200, headers=reply)


async def invoke_async(ctx: AwsContext, request: Request, name: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    _endpoint(ctx, name)
    h = request.headers
    location = h.get("x-amzn-sagemaker-inputlocation")
    if not location:
        raise validation_error("InputLocation: is required")
    store = ctx.platform.store
    deploy = ctx.platform.services["deploy"]
    try:
        job = await run_in_threadpool(
            deploy.invoker.submit,
            name,
            to_store(store, location),
            content_type=h.get("x-amzn-sagemaker-content-type"),
            accept=h.get("x-amzn-sagemaker-accept"),
            inference_id=h.get("x-amzn-sagemaker-inference-id"),
            custom_attributes=h.get("x-amzn-sagemaker-custom-attributes"),
        )
    except ResourceNotFound:
        raise _not_found(ctx, name) from None
    except SageforgeError as exc:
        raise validation_error(exc.message.replace("store://", "s3://")) from None
    return Response(
        json.dumps({"InferenceId": job["inference_id"]}),
        status_code=202,
        media_type="application/json",
        headers={
            "X-Amzn-SageMaker-OutputLocation": to_s3(store, job["output_location"]),
            "X-Amzn-SageMaker-FailureLocation": to_s3(store, job["failure_location"]),
        },
    )
