"""Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, and the
two read-only bucket settings SDKs ask for (location, versioning)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat.s3._backend import S3Store
from sageforge.compat.s3._errors import invalid_argument, s3_error
from sageforge.compat.s3._listing import owner
from sageforge.compat.s3._names import check_new_bucket_name
from sageforge.compat.s3._objects import read_small_body, run
from sageforge.compat.s3._xml import XMLNS, Node, child_text, iso_time, parse, xml_response

US_EAST_1 = "us-east-1"
"""The one region where S3 stores no LocationConstraint and re-creating your bucket is a no-op."""


def list_buckets(s3: S3Store, query: Mapping[str, str], account: str, region: str) -> Response:
    """ListBuckets (with `prefix` and `max-buckets` paging, as recent S3 offers)."""
    prefix = query.get("prefix", "")
    raw_max = query.get("max-buckets")
    try:
        max_buckets = int(raw_max) if raw_max is not None else 10_000
    except ValueError:
        max_buckets = 0
    if not 1 <= max_buckets <= 10_000:
        raise invalid_argument("max-buckets", raw_max or "", "max-buckets must be 1 to 10000")
    after = query.get("continuation-token", "")
    buckets = [(n, t) for n, t in s3.list_buckets() if n.startswith(prefix) and n > after]
    page = buckets[:max_buckets]
    nodes: list[Node] = [
        ("Owner", owner(account)),
        (
            "Buckets",
            [
                (
                    "Bucket",
                    [
                        ("Name", name),
                        ("CreationDate", iso_time(created)),
                        ("BucketRegion", s3.bucket_region(name, region)),
                    ],
                )
                for name, created in page
            ],
        ),
        ("ContinuationToken", page[-1][0] if len(buckets) > max_buckets else None),
        ("Prefix", prefix or None),
    ]
    return xml_response("ListAllMyBucketsResult", nodes)


async def create_bucket(s3: S3Store, request: Request, bucket: str, region: str) -> Response:
    """CreateBucket, with S3's region rules for `LocationConstraint`."""
    check_new_bucket_name(bucket)
    body = await read_small_body(request)
    constraint = None
    if body.strip():
        constraint = child_text(parse(body, "CreateBucketConfiguration"), "LocationConstraint")
    if constraint == US_EAST_1 or (constraint and constraint != region):
        raise s3_error(
            "IllegalLocationConstraintException"
            if constraint != US_EAST_1
            else "InvalidLocationConstraint",
            f"The {constraint} location constraint is incompatible for the region specific "
            f"endpoint this request was sent to ({region}).",
            400,
        )
    if not constraint and region != US_EAST_1:
        raise s3_error(
            "IllegalLocationConstraintException",
            "The unspecified location constraint is incompatible for the region specific "
            f"endpoint this request was sent to ({region}).",
            400,
        )
    if await run(s3.bucket_exists, bucket):
        if region == US_EAST_1:
            return Response(status_code=200, headers={"location": f"/{bucket}"})
        raise s3_error(
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
            409,
            BucketName=bucket,
        )
    await run(s3.create_bucket, bucket, region)
    return Response(status_code=200, headers={"location": f"/{bucket}"})


async def head_bucket(s3: S3Store, bucket: str, region: str) -> Response:
    """HeadBucket: 200 with the bucket's region, or a bare 404."""
    await run(s3.require_bucket, bucket)
    bucket_region = await run(s3.bucket_region, bucket, region)
    return Response(
        status_code=200,
        headers={"x-amz-bucket-region": bucket_region, "x-amz-access-point-alias": "false"},
    )


async def delete_bucket(s3: S3Store, bucket: str) -> Response:
    """DeleteBucket: only an empty bucket (BucketNotEmpty otherwise)."""
    await run(s3.delete_bucket, bucket)
    return Response(status_code=204)


async def bucket_location(s3: S3Store, bucket: str, region: str) -> Response:
    """GetBucketLocation: empty for us-east-1, as S3 answers."""
    await run(s3.require_bucket, bucket)
    where = await run(s3.bucket_region, bucket, region)
    text = "" if where == US_EAST_1 else where
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<LocationConstraint xmlns="{XMLNS}">{text}</LocationConstraint>'
    )
    return Response(body, media_type="application/xml")


async def bucket_versioning(s3: S3Store, bucket: str) -> Response:
    """GetBucketVersioning: versioning was never enabled here."""
    await run(s3.require_bucket, bucket)
    return xml_response("VersioningConfiguration", [])
