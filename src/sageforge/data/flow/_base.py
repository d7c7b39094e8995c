"""The transform contract: parameters as data, state learned by `fit`, `apply` replays it.

A transform is a small class. Its parameters are a pydantic model (so a flow's
JSON is validated field by field, and an unknown or mistyped parameter names
itself). `fit` reads the *training* rows and returns a JSON-able state (medians,
category lists, bounds); `apply` uses only the parameters and that state, so
the same fitted step gives the same values on the training rows, on validation
and test, and on one raw record at an endpoint.

`apply` is written against the operations Polars' DataFrame and LazyFrame
share (`with_columns`, `select`, `drop`, `filter` …): the batch path runs it
lazily over millions of rows, the record path eagerly over one row, which is
~4× cheaper per call than building a lazy plan for one record.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict

SPLIT_COLUMN = "__split"
"""Hidden column the split step writes: the name of the split each row belongs to."""
HIDDEN_COLUMNS = frozenset({SPLIT_COLUMN})

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
State = dict[str, Any]


class StepParams(BaseModel):
    """Base of every transform's parameters: unknown fields are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StepError(ValueError):
    """A step cannot run on this table; the flow adds which step it is."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class Transform(ABC):
    """One kind of step. Subclasses set `type`, `Params` and implement `apply`."""

    type: ClassVar[str]
    """The step's `type` in a flow document, e.g. `impute`."""
    Params: ClassVar[builtins.type[StepParams]]
    stateful: ClassVar[bool] = False
    """Learns statistics in `fit` (from the training rows)."""
    changes_rows: ClassVar[bool] = False
    """May add, remove or reorder rows: a split assigned later depends on it."""
    on_record: ClassVar[Literal["apply", "skip"]] = "apply"
    """`skip`: a row-level step (drop duplicates, sort, split …) that has no meaning for
    one record at an endpoint, which must answer every request."""
    runs_code: ClassVar[bool] = False
    """Evaluates user code (custom Python): never run inside the server."""

    def __init__(self, params: StepParams) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    # -- contract --------------------------------------------------------------

    def columns(self) -> list[str]:
        """Columns the step reads; `check` refuses the step if one is missing."""
        return []

    def check(self, schema: pl.Schema) -> None:
        """Raise StepError if the step cannot run on a table with this schema."""
        require_columns(schema, self.columns())

    def fit(self, frame: pl.LazyFrame) -> State:
        """Learn the step's state from the training rows (stateless steps learn nothing)."""
        return {}

    @abstractmethod
    def apply(self, frame: Frame, state: State) -> Frame:
        """Transform the frame with the parameters and the fitted state."""

    def skips_records(self) -> bool:
        """Whether `apply_record` leaves this step out (see `on_record`)."""
        return self.on_record == "skip"

    def moves_rows(self) -> bool:
        """Whether this configured step may add, remove or reorder rows."""
        return self.changes_rows


TRANSFORMS: dict[str, type[Transform]] = {}
"""Every step type by name; the flow document's `type` field looks here."""

T = TypeVar("T", bound=type[Transform])


def register(cls: T) -> T:
    """Class decorator adding a transform to `TRANSFORMS` under its `type`."""
    if cls.type in TRANSFORMS:
        raise RuntimeError(f"two transforms registered as {cls.type!r}")
    TRANSFORMS[cls.type] = cls
    return cls


# -- helpers shared by the transforms ----------------------------------------------


def visible(names: Iterable[str]) -> list[str]:
    """Column names without sageforge's hidden bookkeeping columns."""
    return [n for n in names if n not in HIDDEN_COLUMNS]


def require_columns(schema: pl.Schema, columns: Sequence[str], param: str = "columns") -> None:
    """StepError naming the first column that is not in the schema."""
    for col in columns:
        if col not in schema:
            shown = visible(schema.names())
            listing = ", ".join(shown[:30]) + (" …" if len(shown) > 30 else "")
            raise StepError(f"no column {col!r}; the columns here are: {listing}", param=param)


def require_kind(
    schema: pl.Schema, columns: Sequence[str], kind: str, param: str = "columns"
) -> None:
    """StepError if a column is not of the kind (`numeric`, `string`, `temporal`)."""
    test = {"numeric": is_numeric, "string": is_string, "temporal": is_temporal}[kind]
    for col in columns:
        if not test(schema[col]):
            raise StepError(
                f"column {col!r} is {dtype_name(schema[col])}, not {kind}"
                + ("; cast it first" if kind != "string" else "; cast it to string first"),
                param=param,
            )


def require_new_name(schema: pl.Schema, name: str, param: str) -> None:
    """StepError if a column would be created over an existing one."""
    if name in schema:
        raise StepError(f"a column named {name!r} already exists", param=param)
    if name in HIDDEN_COLUMNS or not name:
        raise StepError(f"{name!r} is not a usable column name", param=param)


def is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def is_float(dtype: pl.DataType) -> bool:
    return dtype.is_float()


def is_string(dtype: pl.DataType) -> bool:
    return dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum)


def is_temporal(dtype: pl.DataType) -> bool:
    return dtype.is_temporal()


def as_float(col: str, dtype: pl.DataType) -> pl.Expr:
    """The column as Float64 with NaN read as missing, which statistics should skip."""
    expr = pl.col(col).cast(pl.Float64)
    return expr.fill_nan(None) if is_float(dtype) else expr


def schema_of(frame: pl.DataFrame | pl.LazyFrame) -> pl.Schema:
    """The frame's schema (resolved without running a lazy plan)."""
    return frame.collect_schema()


def json_value(value: Any) -> Any:
    """A Python value JSON can hold (floats stay floats, NaN becomes None)."""
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# -- type names in flow documents ---------------------------------------------------

_TYPE_NAMES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "integer": pl.Int64(),
    "long": pl.Int64(),
    "int64": pl.Int64(),
    "int32": pl.Int32(),
    "int16": pl.Int16(),
    "int8": pl.Int8(),
    "uint64": pl.UInt64(),
    "uint32": pl.UInt32(),
    "uint16": pl.UInt16(),
    "uint8": pl.UInt8(),
    "float": pl.Float64(),
    "double": pl.Float64(),
    "float64": pl.Float64(),
    "float32": pl.Float32(),
    "str": pl.String(),
    "string": pl.String(),
    "text": pl.String(),
    "utf8": pl.String(),
    "bool": pl.Boolean(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "timestamp": pl.Datetime("us"),
    "time": pl.Time(),
    "categorical": pl.Categorical(),
    "category": pl.Categorical(),
    "null": pl.Null(),
    "decimal": pl.Float64(),
    "duration": pl.Duration("us"),
    "binary": pl.Binary(),
}
TYPE_NAMES = ("int", "float", "string", "bool", "date", "datetime", "time", "categorical")
"""The type names users write (aliases such as `integer`, `double`, `Int32` work too)."""


def dtype_from_name(name: str) -> pl.DataType:
    """`"int"` -> Int64 …; ValueError listing the known names otherwise."""
    key = str(name).strip().lower()
    if key.startswith("datetime"):
        key = "datetime"
    if key not in _TYPE_NAMES:
        raise ValueError(f"unknown type {name!r}; use one of {', '.join(TYPE_NAMES)}")
    return _TYPE_NAMES[key]


def dtype_name(dtype: pl.DataType) -> str:
    """The short name a flow document stores for a dtype (`Int64`, `String`, `Datetime` …)."""
    if isinstance(dtype, pl.Datetime):
        return "Datetime"
    if isinstance(dtype, pl.Enum):
        return "Categorical"
    return str(dtype.base_type().__name__ if hasattr(dtype, "base_type") else dtype)


def schema_to_dict(schema: pl.Schema | Mapping[str, pl.DataType]) -> dict[str, str]:
    """A JSON-able {column: type name}, hidden columns left out."""
    return {name: dtype_name(dt) for name, dt in schema.items() if name not in HIDDEN_COLUMNS}


def schema_from_dict(types: Mapping[str, str]) -> pl.Schema:
    """The inverse of `schema_to_dict`."""
    return pl.Schema({name: dtype_from_name(t) for name, t in types.items()})
