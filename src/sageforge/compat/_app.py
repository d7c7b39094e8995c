"""The AWS-compatible ASGI app: verify the signature, then dispatch as AWS does.

AWS tells its services apart by the request itself, and so does this app:

- `X-Amz-Target: SageMaker.*` / `Logs_20140328.*` → the JSON 1.1 registry
  (`@operation` handlers, validated against botocore's models);
- credential-scope service `s3` → `sageforge.compat.s3.handle` (rest-xml);
- service `sagemaker` with a path under `/endpoints/` or `/FeatureGroup` →
  `sageforge.compat.runtime.handle` (the runtimes sign as "sagemaker" too);
- service `monitoring` → CloudWatch metrics (query, JSON 1.0 or rpc-v2-cbor);
- service `sts` → STS (query protocol).

Raw handlers are imported lazily, so a missing or broken module costs only its
own service (answered with a clear error), never the whole API.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sageforge.compat import _sigv2, _sigv4
from sageforge.compat._context import DEFAULT_REGION, AwsContext, account_id
from sageforge.compat._errors import AwsError, from_sageforge
from sageforge.compat._json_dispatch import handle_json
from sageforge.compat._json_protocol import TARGET_SERVICES
from sageforge.compat._keys import KeyLookup
from sageforge.compat._render import Protocol, error_response, request_id
from sageforge.core.errors import SageforgeError

if TYPE_CHECKING:
    from sageforge.api._state import Platform

log = logging.getLogger("sageforge.compat")

SERVICE_MODULES: tuple[str, ...] = (
    "sageforge.compat.sagemaker",
    "sageforge.compat.logs",
)
"""Modules whose import registers JSON 1.1 operations (`@operation`)."""

RAW_HANDLERS: dict[str, str] = {
    "s3": "sageforge.compat.s3",
    "runtime": "sageforge.compat.runtime",
    "monitoring": "sageforge.compat.cloudwatch",
    "sts": "sageforge.compat.sts",
}
"""Services answered by an `async handle(ctx, request) -> Response` of their own module."""

RawHandler = Callable[[AwsContext, Request], Awaitable[Response]]


def load_service_modules() -> list[str]:
    """Import every JSON service module; returns the names that failed (logged, not raised)."""
    failed = []
    for name in SERVICE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and name.startswith(exc.name)):
                log.exception("could not load %s; its operations are unavailable", name)
            else:
                log.warning("no %s in this build; its operations are unavailable", name)
            failed.append(name)
        except Exception:
            log.exception("could not load %s; its operations are unavailable", name)
            failed.append(name)
    return failed


def _raw_handler(kind: str) -> RawHandler:
    module_name = RAW_HANDLERS[kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AwsError(
                "NotImplemented",
                f"this sageforge build has no {module_name} (the {kind} API)",
                status=501,
            ) from exc
        raise
    handle = getattr(module, "handle", None)
    if handle is None:
        raise AwsError(
            "NotImplemented", f"{module_name} has no `handle` yet (the {kind} API)", status=501
        )
    return handle  # type: ignore[no-any-return]


def guess_protocol(request: Request, service: str | None) -> Protocol:
    """The protocol a request speaks, to answer it (even an error) in the same one."""
    headers = request.headers
    if headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return Protocol.CBOR
    if headers.get("x-amz-target"):
        return Protocol.JSON
    path = request.url.path
    if service == "sagemaker" and _is_runtime_path(path):
        return Protocol.REST_JSON
    if service in ("sts", "monitoring") or "application/x-www-form-urlencoded" in headers.get(
        "content-type", ""
    ):
        return Protocol.QUERY
    if service is None and _is_runtime_path(path):
        return Protocol.REST_JSON
    if service in ("sagemaker", "logs"):
        return Protocol.JSON
    return Protocol.REST_XML


def _is_runtime_path(path: str) -> bool:
    return path.startswith("/endpoints/") or path.startswith("/FeatureGroup")


class CompatApp:
    """The ASGI app of the AWS-compatible listener."""

    def __init__(self, platform: Callable[[], Platform]) -> None:
        self._platform = platform
        self._keys: KeyLookup | None = None
        load_service_modules()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope, receive)
        response = await self.dispatch(request)
        await response(scope, receive, send)

    def keys(self) -> KeyLookup:
        if self._keys is None:
            self._keys = KeyLookup(self._platform().db)
        return self._keys

    async def dispatch(self, request: Request) -> Response:
        """Authenticate and route one request; every failure becomes an AWS error."""
        rid = request_id()
        service: str | None = None
        try:
            cred = _sigv4.parse_credential(request.headers, request.query_params.multi_items())
            service = cred.service if cred else None
            if cred is None and (v2 := _sigv2.parse_query(request.query_params.multi_items())):
                service = "s3"  # only S3 presigns with SigV2
                ctx = await self.authenticate_v2(request, v2)
                return await self.route(ctx, request, rid)
            if cred is None:
                raise _unsigned(guess_protocol(request, None))
            ctx = await self.authenticate(request, cred)
            return await self.route(ctx, request, rid)
        except AwsError as err:
            if err.status >= 500:
                log.warning("%s %s → %s: %s", request.method, request.url.path, err.code, err)
            return error_response(err, guess_protocol(request, service), rid)
        except Exception:
            log.exception("%s %s failed (request %s)", request.method, request.url.path, rid)
            failure = AwsError(
                "InternalFailure",
                f"sageforge failed while handling the request (request {rid}); see the server log",
                status=500,
            )
            return error_response(failure, guess_protocol(request, service), rid)

    async def authenticate(self, request: Request, cred: _sigv4.Credential) -> AwsContext:
        """Check key, clock and signature; the context names who signed what."""
        s3 = cred.service == "s3"
        key = await _in_thread(self.keys().find, cred.access_key)
        if key is None or key.status != "Active":
            raise _unknown_key(cred, guess_protocol(request, cred.service))
        _sigv4.check_time(cred, s3=s3)
        body = None if "x-amz-content-sha256" in request.headers else await request.body()
        _sigv4.verify(
            cred,
            key.secret_access_key,
            method=request.method,
            raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            query_string=request.scope.get("query_string", b"").decode("latin-1"),
            headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]
            ],
            payload=_sigv4.payload_hash(request.headers, body, cred),
        )
        await _in_thread(self.keys().touch, cred.access_key)
        return AwsContext(
            platform=self._platform(),
            service=cred.service,
            region=cred.region,
            account=account_id(),
            access_key=cred.access_key,
        )

    async def authenticate_v2(self, request: Request, cred: _sigv2.QueryCredentialV2) -> AwsContext:
        """An S3 URL presigned the older way (botocore's default for `generate_presigned_url`)."""
        key = await _in_thread(self.keys().find, cred.access_key)
        if key is None or key.status != "Active":
            raise AwsError(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                status=403,
            )
        _sigv2.verify(
            cred,
            key.secret_access_key,
            method=request.method,
            raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            query=request.query_params.multi_items(),
            headers=request.headers,
        )
        await _in_thread(self.keys().touch, cred.access_key)
        return AwsContext(
            platform=self._platform(),
            service="s3",
            region=DEFAULT_REGION,
            account=account_id(),
            access_key=cred.access_key,
        )

    async def route(self, ctx: AwsContext, request: Request, rid: str) -> Response:
        """Send an authenticated request to the service that answers it."""
        target = request.headers.get("x-amz-target", "")
        if target and target.partition(".")[0] in TARGET_SERVICES:
            return await handle_json(ctx, request, target, rid)
        if ctx.service == "s3":
            kind = "s3"
        elif ctx.service == "sagemaker" and _is_runtime_path(request.url.path):
            kind = "runtime"
        elif ctx.service in ("monitoring", "sts"):
            kind = ctx.service
        elif target:
            raise AwsError("UnknownOperationException", f"Unknown target {target!r}")
        else:
            raise AwsError(
                "UnknownOperationException",
                f"no {ctx.service} operation at {request.method} {request.url.path}",
                status=404 if ctx.service != "sagemaker" else 400,
            )
        handler = _raw_handler(kind)
        try:
            return await handler(ctx, request)
        except AwsError:
            raise
        except SageforgeError as exc:
            raise from_sageforge(exc) from exc
        except Exception as exc:
            log.exception("%s %s failed (request %s)", request.method, request.url.path, rid)
            raise AwsError(
                "InternalFailure" if kind != "s3" else "InternalError",
                f"sageforge failed while handling the request (request {rid}); see the server log",
                status=500,
            ) from exc


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _unsigned(protocol: Protocol) -> AwsError:
    if protocol is Protocol.REST_XML:
        return AwsError(
            "AccessDenied",
            "Anonymous access is forbidden: sign requests with a sageforge access key "
            "(`sageforge aws-env` prints the default one)",
            status=403,
        )
    if protocol is Protocol.QUERY:
        return AwsError(
            "MissingAuthenticationToken", "Request is missing Authentication Token", status=403
        )
    return AwsError(
        "UnrecognizedClientException",
        "Missing Authentication Token: sign requests with a sageforge access key "
        "(`sageforge aws-env` prints the default one)",
        status=403,
    )


def _unknown_key(cred: _sigv4.Credential, protocol: Protocol) -> AwsError:
    if protocol is Protocol.REST_XML:
        return AwsError(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            status=403,
            AWSAccessKeyId=cred.access_key,
        )
    if protocol is Protocol.QUERY:
        return AwsError(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            status=403,
        )
    return AwsError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        status=403,
    )
