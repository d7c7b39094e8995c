"""Native errors and messages back in the caller's terms."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from sageforge.compat._errors import AwsError, from_sageforge
from sageforge.compat.sagemaker import _shapes
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
