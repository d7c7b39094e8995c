"""Errors as AWS sends them, independent of the wire protocol that carries them.

```
AwsError(code, message, status=400, **extra)
 ├── validation(msg)       ValidationException     400
 ├── not_found(msg)        ResourceNotFound        400
 ├── in_use(msg)           ResourceInUse           400
 └── limit_exceeded(msg)   ResourceLimitExceeded   400
```

Each protocol renders an `AwsError` its own way: JSON 1.1 as the HTTP status
plus `{"__type": code, "message": msg, **extra}`, S3 and the query protocol as
XML `<Error><Code>…`. sageforge's own exceptions (`sageforge.core.errors`) are
mapped with `from_sageforge` so a handler can simply let them propagate.
"""

from __future__ import annotations

from typing import Any

from sageforge.core import errors as core_errors


class AwsError(Exception):
    """An error AWS would send: its code, message, HTTP status and extra fields."""

    def __init__(self, code: str, message: str, *, status: int = 400, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra: dict[str, Any] = dict(extra)


def validation(message: str) -> AwsError:
    """A request value broke a rule (SageMaker's `ValidationException`, 400)."""
    return AwsError("ValidationException", message)


def not_found(message: str) -> AwsError:
    """The named resource does not exist (`ResourceNotFound`, 400)."""
    return AwsError("ResourceNotFound", message)


def in_use(message: str) -> AwsError:
    """The name is taken or the resource is busy (`ResourceInUse`, 400)."""
    return AwsError("ResourceInUse", message)


def limit_exceeded(message: str) -> AwsError:
    """A quota would be exceeded (`ResourceLimitExceeded`, 400)."""
    return AwsError("ResourceLimitExceeded", message)


def from_sageforge(exc: core_errors.SageforgeError) -> AwsError:
    """Translate sageforge's own error into the one SageMaker sends for the same case.

    SageMaker answers every client mistake with 400 (not 404/409 as sageforge's
    REST API does), so only the code carries the meaning.
    """
    message = str(exc)
    if isinstance(exc, core_errors.ValidationError):
        return validation(message)
    if isinstance(exc, core_errors.ResourceNotFound):
        return not_found(message)
    if isinstance(exc, core_errors.ResourceInUse):
        return in_use(message)
    if isinstance(exc, core_errors.ResourceLimitExceeded):
        return limit_exceeded(message)
    if isinstance(exc, core_errors.ClientError):
        return validation(message)
    return AwsError("InternalFailure", message, status=500)
