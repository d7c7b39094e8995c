"""SageMaker's shapes from botocore's service model, and the two-way key translation.

sageforge's native specs are SageMaker's structures with snake_case names, so
a request converts mechanically: each structure member `MaxRuntimeInSeconds`
becomes `max_runtime_in_seconds` (botocore's own `xform_name`), map keys
(hyperparameters, environment) stay as they are. The way back walks the
output shape of the operation and picks each member from the native dict by
its snake_case name, so a response carries exactly the members boto3 knows.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from pydantic import BaseModel

UrlMap = Callable[[str], str]


@functools.cache
def service_model() -> ServiceModel:
    """botocore's model of the `sagemaker` service (the reference for every shape)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def output_shape(op: str) -> StructureShape:
    shape = operation(op).output_shape
    assert isinstance(shape, StructureShape), op
    return shape


def input_shape(op: str) -> StructureShape:
    shape = operation(op).input_shape
    assert isinstance(shape, StructureShape), op
    return shape


def member_shape(shape: StructureShape, *path: str) -> Shape:
    """The shape of a nested member, e.g. `member_shape(out, "ModelArtifacts")`."""
    current: Shape = shape
    for name in path:
        while isinstance(current, ListShape):
            current = current.member
        assert isinstance(current, StructureShape), name
        current = current.members[name]
    return current


def to_native(value: Any, shape: Shape, url: UrlMap | None = None) -> Any:
    """An AWS request value in sageforge's snake_case; `url` rewrites `s3://` strings."""
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {
            xform_name(k): to_native(v, shape.members[k], url)
            for k, v in value.items()
            if k in shape.members
        }
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [to_native(v, shape.member, url) for v in value]
    if isinstance(shape, MapShape) and isinstance(value, Mapping):
        return dict(value)  # hyperparameters, environment: keys and values as given
    if url is not None and isinstance(value, str) and value.startswith("s3://"):
        return url(value)
    return value


def to_aws(value: Any, shape: Shape, url: UrlMap | None = None) -> Any:
    """A native value in the AWS output `shape`: PascalCase members, None left out.

    Members are looked up by their AWS name first (a stored AWS request passes
    through unchanged), then by the snake_case one. Timestamps given as ISO
    strings become datetimes (the protocol layer writes epoch seconds).
    """
    if value is None:
        return None
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return None
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            raw = value.get(name, value.get(xform_name(name)))
            converted = to_aws(raw, member, url)
            if converted is None or (converted == {} and isinstance(member, StructureShape)):
                continue
            out[name] = converted
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            return None
        items = [to_aws(v, shape.member, url) for v in value]
        return [i for i in items if i is not None]
    if isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            return None
        return {str(k): to_aws(v, shape.value, url) for k, v in value.items() if v is not None}
    return _scalar(value, shape, url)


def _scalar(value: Any, shape: Shape, url: UrlMap | None) -> Any:
    kind = shape.type_name
    if kind == "timestamp":
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        return None
    if kind == "string":
        if isinstance(value, bool):
            return str(value).lower()
        text = str(value) if isinstance(value, int | float) else value
        if not isinstance(text, str):
            return None
        if url is not None and text.startswith("store://"):
            return url(text)
        return text
    if kind in ("integer", "long"):
        return (
            int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
    if kind in ("float", "double"):
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return value


def fit(data: Any, model: Any) -> Any:
    """`data` without the keys the native pydantic `model` does not know, at every level.

    AWS requests carry settings that mean nothing on one machine (RoleArn,
    VpcConfig, DebugHookConfig …); the native specs forbid unknown keys, so
    those are left out of the native request and kept in the stored AWS one.
    """
    target = _model_of(model)
    if target is not None and isinstance(data, Mapping):
        fields = target.model_fields
        return {
            k: fit(v, fields[k].annotation)
            for k, v in data.items()
            if k in fields and v is not None
        }
    inner = _list_item(model)
    if inner is not None and isinstance(data, list):
        return [fit(v, inner) for v in data]
    return data


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation may hold (Optional / Union / Annotated peeled off)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out += _unwrap(arg)
        return out
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for t in _unwrap(annotation):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _list_item(annotation: Any) -> Any:
    for t in _unwrap(annotation):
        if typing.get_origin(t) is list:
            args = typing.get_args(t)
            return args[0] if args else Any
    return None
