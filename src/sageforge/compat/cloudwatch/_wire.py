"""CloudWatch's three wire protocols over one set of operations.

botocore picks the first protocol of the model's list it supports: recent
releases speak `smithy-rpc-v2-cbor` (POST
`/service/GraniteServiceVersion20100801/operation/<Op>`, CBOR bodies,
`smithy-protocol: rpc-v2-cbor`), some JSON 1.0 (`X-Amz-Target:
GraniteServiceVersion20100801.<Op>`), older ones the query protocol
(form-encoded `Action=<Op>&Version=2010-08-01`, XML out). All three decode to
the same params, are validated against the same model, and run the same code.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat import _botocore, _query
from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError
from sageforge.compat._render import request_id
from sageforge.compat.cloudwatch._operations import OPERATIONS
from sageforge.compat.sts._handler import query_params

SERVICE = "cloudwatch"
TARGET_PREFIX = "GraniteServiceVersion20100801"
CBOR_PATH = f"/service/{TARGET_PREFIX}/operation/"
NAMESPACE = "http://monitoring.amazonaws.com/doc/2010-08-01/"


async def handle(ctx: AwsContext, request: Request) -> Response:
    """Decode, validate, run and encode one CloudWatch request in its own protocol."""
    rid = request_id()
    if request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        import cbor2

        path = request.url.path
        if not path.startswith(CBOR_PATH):
            raise AwsError("UnknownOperationException", f"no CloudWatch operation at {path}")
        name = path[len(CBOR_PATH) :]
        body = await request.body()
        try:
            raw = cbor2.loads(body) if body else {}
        except Exception as exc:
            raise AwsError("SerializationException", f"the body is not CBOR: {exc}") from exc
        result = await _run(ctx, name, raw if isinstance(raw, dict) else {})
        payload = cbor2.dumps(_drop_none(result), datetime_as_timestamp=True, timezone=UTC)
        return Response(
            payload,
            media_type="application/cbor",
            headers={"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": rid},
        )
    target = request.headers.get("x-amz-target", "")
    if target:
        prefix, _, name = target.partition(".")
        if prefix != TARGET_PREFIX:
            raise AwsError("UnknownOperationException", f"Unknown target {target!r}")
        body = await request.body()
        try:
            raw = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise AwsError("SerializationException", f"the body is not JSON: {exc}") from exc
        result = await _run(ctx, name, raw if isinstance(raw, dict) else {})
        return Response(
            json.dumps(_botocore.to_wire(result)),
            media_type="application/x-amz-json-1.0",
            headers={"x-amzn-RequestId": rid},
        )
    flat = await query_params(request)
    name = flat.pop("Action", "")
    flat.pop("Version", None)
    op = _botocore.operation_model(SERVICE, name) if name else None
    if op is None:
        raise AwsError("MissingAction", "The request must contain the parameter Action.")
    result = await _run(ctx, name, _query.decode(op.input_shape, flat))
    xml = _query.encode_response(op, result, NAMESPACE, rid)
    return Response(xml, media_type="text/xml", headers={"x-amzn-RequestId": rid})


async def _run(ctx: AwsContext, name: str, raw: dict[str, Any]) -> dict[str, Any]:
    op = _botocore.operation_model(SERVICE, name)
    implementation = OPERATIONS.get(name)
    if implementation is None:
        raise AwsError(
            "UnknownOperationException",
            f"sageforge's CloudWatch implements {', '.join(sorted(OPERATIONS))}, not {name}",
        )
    params = _botocore.validate_input(op.input_shape, raw) if op.input_shape is not None else {}
    return await run_in_threadpool(implementation, ctx, params)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
