"""What an AWS-compatible request knows about itself once its signature checked out.

Handlers of every emulated service receive an `AwsContext`: the shared
`Platform` (sageforge's own services, which the compat layer translates onto)
plus the region, account and key the request was signed for, so ARNs and
ownership come out as AWS would write them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sageforge.api._state import Platform

DEFAULT_REGION = "us-east-1"
"""The region a request is taken to target when its credential scope names none."""

DEFAULT_ACCOUNT = "000000000000"
"""The account id in ARNs unless `SAGEFORGE_AWS_ACCOUNT` says otherwise."""


def account_id() -> str:
    """The 12-digit account id this server pretends to be (`SAGEFORGE_AWS_ACCOUNT`)."""
    value = os.environ.get("SAGEFORGE_AWS_ACCOUNT", "").strip()
    if len(value) == 12 and value.isdigit():
        return value
    return DEFAULT_ACCOUNT


@dataclass(frozen=True)
class AwsContext:
    """One verified AWS-style request: who signed it, for which service and region."""

    platform: Platform
    """The server's shared services (`sageforge.api._state.Platform`)."""
    service: str
    """The SigV4 credential-scope service: "sagemaker", "s3", "logs", "monitoring", "sts"."""
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    access_key: str = ""
    """The access key id whose signature was verified."""

    def arn(self, resource_type: str, name: str) -> str:
        """SageMaker's ARN for a resource; AWS lower-cases the name part."""
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource_type}/{name.lower()}"
