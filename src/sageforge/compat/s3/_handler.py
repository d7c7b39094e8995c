"""The S3 entry point: find bucket and key, pick the operation, answer in S3's form.

S3 names an operation by method, by whether a bucket and a key are addressed
and by a sub-resource in the query string (`?uploads`, `?delete`,
`?list-type=2` …). Sub-resources this subset does not serve (ACLs, policies,
tagging, versions …) are answered 501 NotImplemented rather than mistaken for
a plain GET or PUT.
"""

from __future__ import annotations

import errno
import functools
import logging
import uuid

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError
from sageforge.compat.s3 import _buckets, _multipart, _objects
from sageforge.compat.s3._backend import S3Store
from sageforge.compat.s3._errors import not_implemented, render, s3_error
from sageforge.compat.s3._listing import list_objects_v1, list_objects_v2
from sageforge.compat.s3._names import Target, parse_target
from sageforge.core.errors import ResourceNotFound, SageforgeError, ValidationError

log = logging.getLogger(__name__)

UNSUPPORTED = frozenset(
    [
        "accelerate",
        "acl",
        "analytics",
        "attributes",
        "cors",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "logging",
        "metadataTable",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "select",
        "tagging",
        "torrent",
        "versions",
        "website",
    ]
)
"""S3 sub-resources this subset does not implement."""


async def handle(ctx: AwsContext, request: Request) -> Response:
    """Serve one S3 request whose signature compat-core has already verified."""
    request_id = uuid.uuid4().hex[:16].upper()
    request.scope["sageforge.s3.request_id"] = request_id
    head = request.method == "HEAD"
    try:
        response = await _dispatch(ctx, request)
    except AwsError as err:
        response = render(err, request_id, head=head)
    except ValidationError as exc:
        response = render(s3_error("InvalidArgument", exc.message, 400), request_id, head=head)
    except ResourceNotFound as exc:
        response = render(s3_error("NoSuchKey", exc.message, 404), request_id, head=head)
    except SageforgeError as exc:
        response = render(s3_error("InternalError", exc.message, 500), request_id, head=head)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening any more
    except OSError as exc:
        response = render(_os_error(exc), request_id, head=head)
    response.headers.setdefault("x-amz-request-id", request_id)
    response.headers.setdefault("x-amz-id-2", request_id)
    if response.status_code >= 400 and _may_have_unread_body(request):
        # Answered before the body was read: its bytes would be taken for the next
        # request on this connection. Close it, as S3 does.
        response.headers["connection"] = "close"
    return response


def _may_have_unread_body(request: Request) -> bool:
    length = request.headers.get("content-length", "0").strip()
    return length not in ("", "0") or "transfer-encoding" in request.headers


def _os_error(exc: OSError) -> AwsError:
    if exc.errno == errno.ENAMETOOLONG:
        return s3_error("KeyTooLongError", "Your key is too long for the artifact store.", 400)
    log.exception("S3 request failed in the artifact store")
    return s3_error("InternalError", f"The artifact store failed: {exc}", 500)


async def _dispatch(ctx: AwsContext, request: Request) -> Response:
    target = parse_target(request.headers.get("host", ""), request.scope["path"])
    owner = request.headers.get("x-amz-expected-bucket-owner")
    if owner is not None and owner != ctx.account:
        raise s3_error("AccessDenied", "Access Denied", 403)
    query = request.query_params
    for name in UNSUPPORTED:
        if name in query:
            raise not_implemented(f"?{name}")
    s3 = S3Store(ctx.platform.store)
    if target.bucket is None:
        if request.method != "GET":
            raise _not_allowed(request.method, "the service")
        call = functools.partial(_buckets.list_buckets, s3, dict(query), ctx.account, ctx.region)
        return await anyio.to_thread.run_sync(call)
    if target.key is None:
        return await _bucket_operation(ctx, s3, request, target)
    return await _object_operation(ctx, s3, request, target)


def _not_allowed(method: str, what: str) -> AwsError:
    return s3_error(
        "MethodNotAllowed",
        f"The specified method is not allowed against this resource ({method} on {what}).",
        405,
        Method=method,
        ResourceType="SERVICE" if what == "the service" else what.upper(),
    )


async def _bucket_operation(
    ctx: AwsContext, s3: S3Store, request: Request, target: Target
) -> Response:
    bucket = target.bucket
    assert bucket is not None
    method, query = request.method, request.query_params
    if method == "GET":
        if "location" in query:
            return await _buckets.bucket_location(s3, bucket, ctx.region)
        if "versioning" in query:
            return await _buckets.bucket_versioning(s3, bucket)
        if "uploads" in query:
            return await _multipart.list_uploads(s3, request, bucket, ctx.account)
        lister = list_objects_v2 if query.get("list-type") == "2" else list_objects_v1
        call = functools.partial(lister, s3, bucket, dict(query), ctx.account)
        return await anyio.to_thread.run_sync(call)
    if method == "HEAD":
        return await _buckets.head_bucket(s3, bucket, ctx.region)
    if method == "PUT":
        return await _buckets.create_bucket(s3, request, bucket, ctx.region)
    if method == "DELETE":
        return await _buckets.delete_bucket(s3, bucket)
    if method == "POST" and "delete" in query:
        return await _objects.delete_objects(s3, request, bucket, ctx.account)
    if method == "POST":
        raise not_implemented("browser-based POST uploads")
    raise _not_allowed(method, "bucket")


async def _object_operation(
    ctx: AwsContext, s3: S3Store, request: Request, target: Target
) -> Response:
    bucket, key = target.bucket, target.key
    assert bucket is not None and key is not None
    method, query = request.method, request.query_params
    if method == "PUT":
        if "uploadId" in query or "partNumber" in query:
            return await _multipart.upload_part(s3, request, bucket, key)
        if request.headers.get("x-amz-copy-source"):
            return await _objects.copy_object(s3, request, bucket, key)
        return await _objects.put_object(s3, request, bucket, key)
    if method in ("GET", "HEAD"):
        if "uploadId" in query and method == "GET":
            return await _multipart.list_parts(s3, request, bucket, key, ctx.account)
        return await _objects.get_object(s3, request, bucket, key, head=method == "HEAD")
    if method == "DELETE":
        if "uploadId" in query:
            return await _multipart.abort(s3, request, bucket, key)
        return await _objects.delete_object(s3, bucket, key)
    if method == "POST":
        if "uploads" in query:
            return await _multipart.create(s3, request, bucket, key)
        if "uploadId" in query:
            return await _multipart.complete(s3, request, bucket, key)
        raise not_implemented("POST on an object without ?uploads or ?uploadId")
    raise _not_allowed(method, "object")
