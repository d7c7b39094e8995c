"""S3's presigned URLs in the older query form (Signature Version 2), checked on the server.

botocore still presigns S3 URLs this way unless the client asks for `s3v4`
(`AWSAccessKeyId=…&Expires=…&Signature=…`), so `generate_presigned_url` from
ordinary user code produces them. Only the query form is accepted, and only
for S3: every other service and every header-signed request is SigV4.

The string to sign follows AWS's "Signing and authenticating REST requests"
(and botocore's `HmacV1QueryAuth`): method, Content-MD5, Content-Type,
Expires, the `x-amz-*` headers, then the resource — the path as sent, with
the sub-resources and response overrides of the query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from sageforge.compat._errors import AwsError

# The query parameters that are part of the signed resource (botocore's list).
SIGNED_SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging",
        "partNumber", "policy", "requestPayment", "torrent", "versioning", "versionId",
        "versions", "website", "uploads", "uploadId", "response-content-type",
        "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding", "delete", "lifecycle",
        "tagging", "restore", "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select", "select-type", "object-lock",
    }
)  # fmt: skip


@dataclass(frozen=True)
class QueryCredentialV2:
    """What a SigV2 presigned URL claims."""

    access_key: str
    signature: str
    expires: int


def parse_query(query: Sequence[tuple[str, str]]) -> QueryCredentialV2 | None:
    """The URL's SigV2 credential, or None when it carries none."""
    params = dict(query)
    if "Signature" not in params or "AWSAccessKeyId" not in params:
        return None
    try:
        expires = int(params.get("Expires", ""))
    except ValueError:
        raise AwsError(
            "AuthorizationQueryParametersError",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
            "parameters; Expires must be seconds since the epoch",
            status=400,
        ) from None
    return QueryCredentialV2(params["AWSAccessKeyId"], params["Signature"], expires)


def string_to_sign(
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    expires: int,
) -> str:
    amz = sorted(
        (k.lower().strip(), v.strip()) for k, v in headers.items() if k.lower().startswith("x-amz-")
    )
    amz_lines = "".join(f"{k}:{v}\n" for k, v in amz)
    subresources = sorted((k, v) for k, v in query if k in SIGNED_SUBRESOURCES)
    resource = raw_path or "/"
    if subresources:
        resource += "?" + "&".join(k if v == "" else f"{k}={unquote(v)}" for k, v in subresources)
    return (
        f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n"
        f"{expires}\n{amz_lines}{resource}"
    )


def verify(
    cred: QueryCredentialV2,
    secret: str,
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    now: float | None = None,
) -> None:
    """Raise AWS's error unless the URL is unexpired and its signature is the expected one."""
    if (now if now is not None else time.time()) > cred.expires:
        raise AwsError("AccessDenied", "Request has expired", status=403)
    text = string_to_sign(
        method=method, raw_path=raw_path, query=query, headers=headers, expires=cred.expires
    )
    expected = base64.b64encode(
        hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, cred.signature):
        raise AwsError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            status=403,
            StringToSign=text,
        )
