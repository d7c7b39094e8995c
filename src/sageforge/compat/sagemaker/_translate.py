"""Native errors and messages back in the caller's terms."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError, from_sageforge
from sageforge.compat.sagemaker import _records, _shapes
from sageforge.compat.sagemaker._common import aws_path
from sageforge.core import errors as core_errors

_INDEX = re.compile(r"\[(\d+)\]")


@contextlib.contextmanager
def native_errors(op: str) -> Iterator[None]:
    """Re-raise a native ValidationError with the AWS member path and `s3://` URLs."""
    try:
        yield
    except core_errors.ValidationError as exc:
        message = exc.message.replace("store://", "s3://")
        if exc.field:
            loc: list[object] = []
            for part in exc.field.split("."):
                name, *indices = _INDEX.split(part)
                loc.append(name)
                loc += [int(i) for i in indices if i]
            where = aws_path(_shapes.input_shape(op), loc)
            raise AwsError("ValidationException", f"{where}: {message}") from None
        raise AwsError("ValidationException", message) from None
    except core_errors.ClientError as exc:
        raise from_sageforge(exc) from None


def create_remembered(
    ctx: AwsContext,
    op: str,
    kind: str,
    name: str,
    params: dict[str, Any],
    *,
    create: Callable[[], dict[str, Any]],
    taken: Callable[[], AwsError],
) -> None:
    """Create the native resource, answering a taken name with `taken()` (each kind has
    AWS's own wording for it), and keep the request as sent for Describe to echo."""
    with native_errors(op):
        try:
            out = create()
        except core_errors.ResourceInUse:
            raise taken() from None
    _records.remember(ctx.platform.db, kind, name, params, out["creation_time"])
