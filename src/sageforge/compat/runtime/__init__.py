"""sagemaker-runtime and sagemaker-featurestore-runtime (rest-json), dispatched by path.

Both sign with the credential-scope service "sagemaker", so the compat app
sends every `/endpoints/...` and `/FeatureGroup...` request here:

- `POST /endpoints/{name}/invocations` — InvokeEndpoint (`_invoke`);
- `POST /endpoints/{name}/async-invocations` — InvokeEndpointAsync;
- `/FeatureGroup/{name}…` — the feature-store runtime. sageforge has no
  feature store yet, so every feature group is one that does not exist, and
  the answer is SageMaker's `ResourceNotFound` for it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError
from sageforge.compat.runtime._invoke import invoke, invoke_async, validation_error

_ENDPOINT_PATH = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations)$")
_FEATURE_GROUP_PATH = re.compile(r"^/FeatureGroup/([^/]+)")

__all__ = ["handle"]


async def handle(ctx: AwsContext, request: Request) -> Response:
    """Answer one runtime request (errors raised as AwsError; the app renders them)."""
    path = request.url.path
    match = _ENDPOINT_PATH.match(path)
    if match:
        if request.method != "POST":
            raise validation_error(f"{request.method} is not allowed on {path}; use POST")
        name = unquote(match.group(1))
        if match.group(2) == "invocations":
            return await invoke(ctx, request, name)
        return await invoke_async(ctx, request, name)
    match = _FEATURE_GROUP_PATH.match(path)
    if match:
        name = unquote(match.group(1))
        raise AwsError(
            "ResourceNotFound",
            f"Feature group {name} not found: sageforge has no feature store yet",
            status=404,
        )
    raise AwsError(
        "UnknownOperationException", f"no runtime operation at {request.method} {path}", status=404
    )
