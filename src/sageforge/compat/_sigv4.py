"""AWS Signature Version 4, checked on the server side.

The server rebuilds the canonical request from what arrived on the wire and
signs it with the stored secret of the access key named in the credential
scope; the signatures must match. The rules follow AWS's "Create a signed AWS
API request" guide and botocore's `SigV4Auth`/`S3SigV4Auth`:

- the canonical URI is the raw path, percent-encoded once more for every
  service but S3 (S3 signs the path exactly as sent);
- the canonical query string is every parameter (but the signature itself)
  URI-encoded and sorted;
- the payload hash is `x-amz-content-sha256` when sent (S3 always sends it, and
  `UNSIGNED-PAYLOAD`/`STREAMING-…` are taken as given), else sha256 of the body;
- presigned URLs carry all of the above in `X-Amz-*` query parameters.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from sageforge.compat._errors import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credential:
    """What a request claims: key, scope (date/region/service) and signature."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool = False
    expires: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def parse_credential(
    headers: Mapping[str, str], query: Sequence[tuple[str, str]]
) -> Credential | None:
    """The request's SigV4 credential (header or presigned query), or None if unsigned.

    Raises `IncompleteSignature` for an Authorization header that is not SigV4.
    """
    auth = headers.get("authorization")
    if auth:
        return _from_header(auth, headers)
    params = dict(query)
    if "X-Amz-Signature" in params or "X-Amz-Credential" in params:
        return _from_query(params)
    return None


def _incomplete(detail: str) -> AwsError:
    return AwsError("IncompleteSignature", detail, status=403)


def _split_scope(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _incomplete(
            f"Credential should be scoped to a valid region and service: {credential!r}"
        )
    return parts[0], parts[1], parts[2], parts[3]


def _from_header(auth: str, headers: Mapping[str, str]) -> Credential:
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"Unsupported authorization algorithm {algorithm!r}; use {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key] = value
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        raise _incomplete(
            f"Authorization header requires {', '.join(missing)} parameter(s). "
            f"Authorization={auth[:200]}"
        )
    key, date, region, service = _split_scope(fields["Credential"])
    amz_date = headers.get("x-amz-date") or ""
    if not amz_date:
        raise _incomplete("Authorization header requires existence of an X-Amz-Date header")
    return Credential(
        access_key=key,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(fields["SignedHeaders"].split(";")),
        signature=fields["Signature"],
        amz_date=amz_date,
    )


def _from_query(params: Mapping[str, str]) -> Credential:
    needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders")
    missing = [k for k in (*needed, "X-Amz-Signature") if not params.get(k)]
    if missing:
        raise AwsError(
            "AuthorizationQueryParametersError",
            f"Query-string authentication version 4 requires {', '.join(missing)}",
            status=400,
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AwsError(
            "AuthorizationQueryParametersError",
            f"X-Amz-Algorithm only supports {ALGORITHM}",
            status=400,
        )
    key, date, region, service = _split_scope(params["X-Amz-Credential"])
    try:
        expires = int(params.get("X-Amz-Expires", "604800"))
    except ValueError:
        raise AwsError(
            "AuthorizationQueryParametersError", "X-Amz-Expires should be a number", status=400
        ) from None
    return Credential(
        access_key=key,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(params["X-Amz-SignedHeaders"].split(";")),
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        presigned=True,
        expires=expires,
    )


def request_time(cred: Credential) -> datetime:
    """The signing time the request states (`X-Amz-Date`, basic ISO 8601)."""
    try:
        return datetime.strptime(cred.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _incomplete(
            f"X-Amz-Date {cred.amz_date!r} is not in the form YYYYMMDDTHHMMSSZ"
        ) from None


def check_time(cred: Credential, *, s3: bool, now: datetime | None = None) -> None:
    """Refuse stale or future requests, and presigned URLs past their expiry."""
    now = now or datetime.now(UTC)
    signed_at = request_time(cred)
    if cred.presigned:
        if cred.expires is not None and now > signed_at + timedelta(seconds=cred.expires):
            raise AwsError("AccessDenied", "Request has expired", status=403)
        if signed_at - now > MAX_SKEW:
            raise AwsError("AccessDenied", "Request is not valid yet", status=403)
        return
    if abs(now - signed_at) > MAX_SKEW:
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        if s3:
            raise AwsError(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                status=403,
                RequestTime=cred.amz_date,
                ServerTime=stamp,
            )
        raise AwsError(
            "SignatureDoesNotMatch",
            f"Signature expired: {cred.amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} ({stamp} - 15 min.)",
            status=403,
        )
    if cred.date != cred.amz_date[:8]:
        raise AwsError(
            "SignatureDoesNotMatch",
            f"Credential should be scoped to a valid date: {cred.date} is not the date of "
            f"X-Amz-Date {cred.amz_date}",
            status=403,
        )


def canonical_uri(raw_path: str, *, s3: bool) -> str:
    """The path as signed: as sent for S3, normalized and encoded once more otherwise."""
    if s3:
        return raw_path or "/"
    from botocore.utils import normalize_url_path

    normalized = normalize_url_path(raw_path)
    return quote(normalized, safe="/~")


def canonical_query(query_string: str, *, drop_signature: bool) -> str:
    """Every query parameter, decoded, strictly re-encoded and sorted by name then value."""
    pairs: list[tuple[str, str]] = []
    for part in query_string.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        key, value = unquote(key), unquote(value)
        if drop_signature and key == "X-Amz-Signature":
            continue
        pairs.append((quote(key, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_headers(headers: Sequence[tuple[str, str]], signed: Sequence[str]) -> tuple[str, str]:
    """(canonical headers block, signed-headers list) over the names the client signed."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(" ".join(value.strip().split()))
    lines = []
    for name in signed:
        if name not in values:
            raise AwsError(
                "SignatureDoesNotMatch",
                f"The request signed header {name!r}, but it was not sent",
                status=403,
            )
        lines.append(f"{name}:{','.join(values[name])}\n")
    return "".join(lines), ";".join(signed)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The key derived from the secret for one day, region and service."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def expected_signature(
    cred: Credential,
    secret: str,
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Sequence[tuple[str, str]],
    payload_hash: str,
) -> tuple[str, str]:
    """(signature, canonical request) the server computes for this request."""
    s3 = cred.service == "s3"
    header_block, signed = canonical_headers(headers, cred.signed_headers)
    canonical = "\n".join(
        (
            method.upper(),
            canonical_uri(raw_path, s3=s3),
            canonical_query(query_string, drop_signature=cred.presigned),
            header_block,
            signed,
            payload_hash,
        )
    )
    string_to_sign = "\n".join(
        (ALGORITHM, cred.amz_date, cred.scope, hashlib.sha256(canonical.encode()).hexdigest())
    )
    key = signing_key(secret, cred.date, cred.region, cred.service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest(), canonical


def payload_hash(headers: Mapping[str, str], body: bytes | None, cred: Credential) -> str:
    """The payload hash the client signed: the header's value, or sha256 of the body."""
    sent = headers.get("x-amz-content-sha256")
    if sent:
        return sent
    if cred.presigned:
        return UNSIGNED_PAYLOAD
    return hashlib.sha256(body or b"").hexdigest()


def verify(
    cred: Credential,
    secret: str,
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Sequence[tuple[str, str]],
    payload: str,
) -> None:
    """Raise `SignatureDoesNotMatch` unless the request's signature is the expected one."""
    expected, canonical = expected_signature(
        cred,
        secret,
        method=method,
        raw_path=raw_path,
        query_string=query_string,
        headers=headers,
        payload_hash=payload,
    )
    if not hmac.compare_digest(expected, cred.signature):
        extra = {"CanonicalRequest": canonical} if cred.service == "s3" else {}
        raise AwsError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
            status=403,
            **extra,
        )
