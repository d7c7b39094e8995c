"""STS (query protocol): `GetCallerIdentity`, the one call SDKs make to learn the account."""

from sageforge.compat.sts._handler import handle

__all__ = ["handle"]
