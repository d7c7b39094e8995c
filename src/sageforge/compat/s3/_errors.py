"""S3's error codes, as `AwsError`s carrying S3's HTTP status and extra fields.

S3 answers in XML (`<Error><Code>…<Message>…<Key>…<RequestId>…`), a HEAD
request with the status alone; botocore then names a HEAD error by its status
("404", "Not Found"), which the SageMaker SDK tests for.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from starlette.responses import Response

from sageforge.compat._errors import AwsError
from sageforge.compat._render import Protocol, error_response


def s3_error(code: str, message: str, status: int, **extra: Any) -> AwsError:
    """An S3 error; `extra` become XML elements after the message (Key, BucketName …)."""
    return AwsError(code, message, status=status, **extra)


def no_such_bucket(bucket: str) -> AwsError:
    return s3_error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> AwsError:
    return s3_error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_upload(upload_id: str) -> AwsError:
    return s3_error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
        404,
        UploadId=upload_id,
    )


def invalid_bucket_name(bucket: str, why: str) -> AwsError:
    return s3_error(
        "InvalidBucketName",
        f"The specified bucket is not valid: {why}.",
        400,
        BucketName=bucket,
    )


def invalid_argument(name: str, value: str, message: str) -> AwsError:
    """A request parameter or header has a value S3 refuses."""
    return s3_error("InvalidArgument", message, 400, ArgumentName=name, ArgumentValue=value)


def invalid_request(message: str) -> AwsError:
    return s3_error("InvalidRequest", message, 400)


def malformed_xml() -> AwsError:
    return s3_error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def bad_digest(what: str) -> AwsError:
    return s3_error(
        "BadDigest", f"The {what} you specified did not match the calculated checksum.", 400
    )


def precondition_failed(condition: str) -> AwsError:
    return s3_error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )


def key_conflict(key: str, message: str) -> AwsError:
    """A key that is both an object and a prefix of other objects, which files cannot be."""
    return s3_error("KeyConflict", message, 409, Key=key)


def not_implemented(what: str) -> AwsError:
    return s3_error(
        "NotImplemented",
        f"A header or query you provided implies functionality that is not implemented: {what}",
        501,
    )


def error_document(err: AwsError, request_id: str) -> bytes:
    """`<Error>…</Error>` alone: the failure of a 200 already under way (`_keepalive`)."""
    fields = {"Code": err.code, "Message": err.message, **err.extra, "RequestId": request_id}
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f"<Error>{inner}</Error>".encode()


def render(err: AwsError, request_id: str, *, head: bool) -> Response:
    """The error on the wire: S3's XML, or the bare status for HEAD."""
    if head:
        return Response(
            status_code=err.status,
            headers={"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        )
    response = error_response(err, Protocol.REST_XML, request_id)
    response.headers["x-amz-id-2"] = request_id
    return response
