"""An `AwsError` on the wire, in the form each AWS protocol's parser expects.

botocore reads the error code from `__type` (JSON 1.0/1.1 and rpc-v2-cbor),
from the `x-amzn-ErrorType` header or the body (rest-json), from
`<Error><Code>` (S3's rest-xml) and from `<ErrorResponse><Error><Code>` (the
query protocol), so each protocol gets its own rendering of the same error.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from xml.sax.saxutils import escape

from starlette.responses import Response

from sageforge.compat._errors import AwsError


class Protocol(StrEnum):
    """The wire protocols the compat API speaks."""

    JSON = "json"
    REST_JSON = "rest-json"
    REST_XML = "rest-xml"
    QUERY = "query"
    CBOR = "smithy-rpc-v2-cbor"


def request_id() -> str:
    """A fresh request id, echoed in headers as AWS does (for log correlation)."""
    return str(uuid.uuid4())


def error_response(err: AwsError, protocol: Protocol, rid: str | None = None) -> Response:
    """Render `err` in `protocol`'s error format, with AWS's request-id header."""
    rid = rid or request_id()
    if protocol is Protocol.REST_XML:
        return _xml(err, rid, query=False)
    if protocol is Protocol.QUERY:
        return _xml(err, rid, query=True)
    body = {"__type": err.code, "message": err.message, **err.extra}
    headers = {"x-amzn-RequestId": rid, "x-amzn-ErrorType": err.code}
    if protocol is Protocol.CBOR:
        import cbor2

        return Response(
            cbor2.dumps(body),
            status_code=err.status,
            media_type="application/cbor",
            headers={
                **headers,
                "smithy-protocol": "rpc-v2-cbor",
                # CloudWatch is "awsQueryCompatible": botocore takes the code from here.
                "x-amzn-query-error": f"{err.code};{'Receiver' if err.status >= 500 else 'Sender'}",
            },
        )
    media = "application/x-amz-json-1.1" if protocol is Protocol.JSON else "application/json"
    return Response(
        json.dumps(body, default=str), status_code=err.status, media_type=media, headers=headers
    )


def _xml(err: AwsError, rid: str, *, query: bool) -> Response:
    extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in err.extra.items())
    core = f"<Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message>{extra}"
    if query:
        kind = "Receiver" if err.status >= 500 else "Sender"
        body = (
            f'<ErrorResponse xmlns="http://webservices.amazon.com/AWSFault/2005-15-09">'
            f"<Error><Type>{kind}</Type>{core}</Error><RequestId>{rid}</RequestId>"
            f"</ErrorResponse>"
        )
    else:
        body = f"<Error>{core}<RequestId>{rid}</RequestId></Error>"
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + body,
        status_code=err.status,
        media_type="application/xml",
        headers={"x-amz-request-id": rid, "x-amzn-RequestId": rid},
    )
