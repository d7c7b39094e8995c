"""Answering one JSON 1.1 request: target → model → validated params → handler → JSON.

Handlers are sync and may touch the DB or the file system, so they run in the
thread pool. Whatever they raise becomes an AWS error; a bug becomes a 500
`InternalFailure` with its traceback in the server log, and the server goes on.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat import _botocore
from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError, from_sageforge
from sageforge.compat._json_protocol import TARGET_SERVICES, lookup
from sageforge.core.errors import SageforgeError

log = logging.getLogger("sageforge.compat")


async def handle_json(ctx: AwsContext, request: Request, target: str, rid: str) -> Response:
    """Run the operation named by `X-Amz-Target` and answer in JSON 1.1."""
    prefix, _, name = target.partition(".")
    service = TARGET_SERVICES.get(prefix)
    if service is None or not name:
        raise AwsError("UnknownOperationException", f"Unknown target {target!r}")
    op = _botocore.operation_model(service, name)
    # Validate first: a bad request is answered the same whether or not it is implemented.
    params = _botocore.parse_json_input(op, await request.body())
    handler = lookup(prefix, name)
    if handler is None:
        raise AwsError(
            "UnknownOperationException",
            f"sageforge does not implement {name} of {service} yet",
        )
    try:
        result = await run_in_threadpool(handler, ctx, params)
    except AwsError:
        raise
    except SageforgeError as exc:
        raise from_sageforge(exc) from exc
    except Exception as exc:
        log.exception("%s failed (request %s)", target, rid)
        raise AwsError(
            "InternalFailure",
            f"sageforge failed while handling {name} (request {rid}); see the server log",
            status=500,
        ) from exc
    body = json.dumps(_botocore.to_wire(result or {}))
    return Response(
        body, media_type="application/x-amz-json-1.1", headers={"x-amzn-RequestId": rid}
    )
