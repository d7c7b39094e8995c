"""The one exception tree sageforge raises, on the server and in the SDK alike.

```
SageforgeError                      every sageforge failure
 ├── ClientError                    the caller asked for something wrong (HTTP 4xx)
 │    ├── ValidationError           bad input: names the field at fault (400, ValidationException)
 │    ├── ResourceNotFound          no such resource (404, ResourceNotFound)
 │    ├── ResourceInUse             name taken / resource busy (409, ResourceInUse)
 │    └── ResourceLimitExceeded     a quota would be exceeded (429, ResourceLimitExceeded)
 ├── ServerError                    sageforge itself failed (HTTP 5xx, InternalFailure)
 └── ServerUnavailable              the SDK could not reach or start a server
```

The same classes travel over the wire: the server turns one into
`{"error": {"type": ..., "message": ..., "field": ...}}` and the SDK turns that
body back into the class, so callers catch the same thing whether they run
against a local or a remote server. The `type` strings are SageMaker's error
codes, which keeps the SageMaker-compatible API a mechanical translation.
"""

from __future__ import annotations

from typing import Any


class SageforgeError(Exception):
    """Base of every error sageforge raises on purpose."""

    code: str = "InternalFailure"
    http_status: int = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        if self.field:
            return f"{self.field}: {self.message}"
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The wire form the REST API answers with."""
        body: dict[str, Any] = {"type": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return {"error": body}


class ClientError(SageforgeError):
    """The request was wrong; retrying it unchanged will fail again."""

    code = "ClientError"
    http_status = 400


class ValidationError(ClientError):
    """An input value is missing, malformed or out of range."""

    code = "ValidationException"
    http_status = 400


class ResourceNotFound(ClientError):
    """The named resource does not exist."""

    code = "ResourceNotFound"
    http_status = 404


class ResourceInUse(ClientError):
    """The name is taken, or the resource is in a state that forbids the action."""

    code = "ResourceInUse"
    http_status = 409


class ResourceLimitExceeded(ClientError):
    """Doing this would exceed a configured limit."""

    code = "ResourceLimitExceeded"
    http_status = 429


class Throttled(ClientError):
    """More requests at once than the resource takes (a serverless variant's MaxConcurrency).

    AWS's SDKs retry this code by themselves, with backoff; so does our Predictor.
    """

    code = "ThrottlingException"
    http_status = 429


class ServerError(SageforgeError):
    """sageforge failed while handling a valid request: a bug or a broken environment."""

    code = "InternalFailure"
    http_status = 500


class ServerUnavailable(SageforgeError):
    """No server answered at the configured URL and none could be started."""

    code = "ServerUnavailable"
    http_status = 503


_BY_CODE: dict[str, type[SageforgeError]] = {
    cls.code: cls
    for cls in (
        ClientError,
        ValidationError,
        ResourceNotFound,
        ResourceInUse,
        ResourceLimitExceeded,
        Throttled,
        ServerError,
        ServerUnavailable,
    )
}


def error_from_dict(body: dict[str, Any], http_status: int) -> SageforgeError:
    """Rebuild the exception a server sent, falling back on the HTTP status class."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        cls: type[SageforgeError] = ClientError if 400 <= http_status < 500 else ServerError
        return cls(f"HTTP {http_status}: {body!r}")
    cls = _BY_CODE.get(str(err.get("type")), ClientError if http_status < 500 else ServerError)
    return cls(str(err.get("message", "")), field=err.get("field"))
