"""The registry of JSON 1.1 operations (`X-Amz-Target: <prefix>.<Operation>`).

Service modules register plain sync handlers with `@operation(prefix, name)`
at import time; the compat app imports them (`_app.SERVICE_MODULES`) and
dispatches by the target header. Parsing, validation against botocore's input
shape and serialization of the output live in the protocol layer
(`_json_dispatch`), so a handler sees only valid input and returns plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sageforge.compat._context import AwsContext

Handler = Callable[[AwsContext, dict[str, Any]], dict[str, Any]]
"""A JSON operation: validated params in, a dict in botocore's output shape out."""

TARGET_SERVICES: dict[str, str] = {
    "SageMaker": "sagemaker",
    "Logs_20140328": "logs",
}
"""Which botocore service model describes the operations behind a target prefix."""

_REGISTRY: dict[tuple[str, str], Handler] = {}


def operation(target_prefix: str, name: str) -> Callable[[Handler], Handler]:
    """Register a JSON 1.1 operation: `@operation("SageMaker", "CreateTrainingJob")`.

    Handlers are plain SYNC functions (run in a thread pool). `params` was parsed
    and validated against botocore's input shape (required members, types,
    enums, lengths, patterns where cheap) before the call, so a missing or
    wrongly typed member never reaches the handler; timestamps arrive as
    timezone-aware `datetime`. The handler returns a dict in botocore's output
    shape; `datetime` values are serialized to epoch seconds by the protocol
    layer. Raise `AwsError` for AWS errors; any `sageforge.core.errors`
    exception is translated too (ValidationError → ValidationException,
    ResourceNotFound → ResourceNotFound, ResourceInUse → ResourceInUse).
    """
    if target_prefix not in TARGET_SERVICES:
        raise ValueError(
            f"unknown JSON target prefix {target_prefix!r}; known: {sorted(TARGET_SERVICES)}"
        )

    def register(handler: Handler) -> Handler:
        key = (target_prefix, name)
        existing = _REGISTRY.get(key)
        # Re-importing the same module (tests, reloads) re-registers the same function.
        if existing is not None and _origin(existing) != _origin(handler):
            raise ValueError(f"{target_prefix}.{name} is registered twice")
        _REGISTRY[key] = handler
        return handler

    return register


def _origin(handler: Handler) -> tuple[str, str]:
    return handler.__module__, handler.__qualname__


def lookup(target_prefix: str, name: str) -> Handler | None:
    """The handler registered for `<prefix>.<name>`, if any."""
    return _REGISTRY.get((target_prefix, name))


def registered(target_prefix: str | None = None) -> list[str]:
    """Names of registered operations (of one prefix, or all as `prefix.name`)."""
    if target_prefix is None:
        return sorted(f"{p}.{n}" for p, n in _REGISTRY)
    return sorted(n for p, n in _REGISTRY if p == target_prefix)
