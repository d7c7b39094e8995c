"""The AWS-compatible API: boto3 and the SageMaker SDK talk to sageforge unchanged.

A second listener of `sageforge server` speaks AWS's wire protocols (JSON 1.1
for SageMaker and CloudWatch Logs, rest-json for the runtimes, rest-xml for
S3, query / rpc-v2-cbor for CloudWatch metrics) and translates each call onto
sageforge's own services. botocore's service models are the reference for
every shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import (
    AwsError,
    in_use,
    limit_exceeded,
    not_found,
    validation,
)
from sageforge.compat._json_protocol import Handler, operation

if TYPE_CHECKING:
    from sageforge.core.config import Settings


def default_credentials(settings: Settings | None = None) -> tuple[str, str]:
    """(access key id, secret) of the local default key pair, created on first use.

    Opens the metadata DB of `settings` (default: `Settings.load()`); the server
    creates the same key at its first start.
    """
    from sageforge.compat._keys import default_credentials as load

    return load(settings)


__all__ = [
    "AwsContext",
    "AwsError",
    "Handler",
    "default_credentials",
    "in_use",
    "limit_exceeded",
    "not_found",
    "operation",
    "validation",
]
