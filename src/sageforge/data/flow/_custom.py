"""Custom steps: SQL over the current table (DuckDB), or Python (a Polars expression or
a function).

SQL runs in a DuckDB connection with file access disabled and its configuration
locked, so a query sees only the table (`df`), never the machine. Python is
user code: the server never runs it (it only checks that it compiles); the
export job and the SDK's local preview do.

After a split, both run once per split, so a query that aggregates or filters
does it within each split and cannot mix training rows with test rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import Field, model_validator

from sageforge.data.flow._base import (
    SPLIT_COLUMN,
    Frame,
    State,
    StepError,
    StepParams,
    Transform,
    register,
    require_new_name,
    schema_of,
)


def _per_split(frame: Frame, run: Callable[[pl.DataFrame], pl.DataFrame]) -> Frame:
    """Run an eager table function once per split (or once), keeping the split labels."""
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    if SPLIT_COLUMN in df.columns:
        parts = []
        for (name,), part in df.group_by(SPLIT_COLUMN, maintain_order=True):
            out = run(part.drop(SPLIT_COLUMN))
            parts.append(out.with_columns(pl.lit(name, pl.String).alias(SPLIT_COLUMN)))
        result = (
            pl.concat(parts, how="vertical_relaxed")
            if parts
            else run(df.drop(SPLIT_COLUMN)).with_columns(
                pl.lit(None, pl.String).alias(SPLIT_COLUMN)
            )
        )
    else:
        result = run(df)
    return result.lazy() if isinstance(frame, pl.LazyFrame) else result  # type: ignore[return-value]


@register
class CustomSQL(Transform):
    """A DuckDB `SELECT` over the current table, named `df`:
    `SELECT *, monthly_charges * 12 AS yearly_charges FROM df`."""

    type = "custom_sql"
    changes_rows = True

    class Params(StepParams):
        sql: Annotated[str, Field(min_length=1, max_length=100_000)]

    params: Params

    def apply(self, frame: Frame, state: State) -> Frame:
        return _per_split(frame, self._run)

    def _run(self, df: pl.DataFrame) -> pl.DataFrame:
        import duckdb

        con = duckdb.connect(config={"enable_external_access": False, "lock_configuration": True})
        try:
            con.register("df", df.to_arrow())
            result = con.sql(self.params.sql)
            if result is None:
                raise StepError("the SQL must be a query (SELECT …) returning the new table")
            return result.pl()
        except duckdb.Error as exc:
            raise StepError(f"SQL failed: {str(exc).splitlines()[0]}", param="sql") from None
        finally:
            con.close()


_SAFE_GLOBALS: dict[str, Any] = {"pl": pl}


@register
class CustomPython(Transform):
    """`expression`: a Polars expression written to `output_column`
    (`pl.col("a") / pl.col("b")`); or `code` defining `transform(df)`, which takes
    and returns a Polars DataFrame."""

    type = "custom_python"
    runs_code = True

    class Params(StepParams):
        mode: Literal["expression", "function"] = "expression"
        expression: str | None = None
        output_column: str | None = None
        code: str | None = None

        @model_validator(mode="after")
        def _complete(self) -> CustomPython.Params:
            if self.mode == "expression":
                if not self.expression or not self.output_column:
                    raise ValueError("mode 'expression' needs expression and output_column")
                source = self.expression
                how: Literal["eval", "exec"] = "eval"
            else:
                if not self.code:
                    raise ValueError("mode 'function' needs code defining transform(df)")
                source, how = self.code, "exec"
            try:
                compile(source, "<custom_python>", how)
            except SyntaxError as exc:
                raise ValueError(f"Python syntax error: {exc.msg} (line {exc.lineno})") from None
            return self

    params: Params

    def moves_rows(self) -> bool:
        return self.params.mode == "function"

    def check(self, schema: pl.Schema) -> None:
        if self.params.mode == "expression" and self.params.output_column != SPLIT_COLUMN:
            name = self.params.output_column or ""
            if name in schema:
                return  # overwriting a column is allowed
            require_new_name(schema, name, "output_column")

    def apply(self, frame: Frame, state: State) -> Frame:
        p = self.params
        if p.mode == "expression":
            expr = self._expression()
            return frame.with_columns(expr.alias(p.output_column or ""))
        function = self._function()

        def run(df: pl.DataFrame) -> pl.DataFrame:
            try:
                out = function(df)
            except Exception as exc:
                raise StepError(f"transform(df) raised {type(exc).__name__}: {exc}") from None
            if isinstance(out, pl.LazyFrame):
                out = out.collect()
            if not isinstance(out, pl.DataFrame):
                raise StepError(
                    f"transform(df) must return a Polars DataFrame, not {type(out).__name__}"
                )
            return out

        return _per_split(frame, run)

    def _expression(self) -> pl.Expr:
        try:
            expr = eval(self.params.expression or "", dict(_SAFE_GLOBALS))
        except Exception as exc:
            raise StepError(
                f"the expression raised {type(exc).__name__}: {exc}", param="expression"
            ) from None
        if not isinstance(expr, pl.Expr):
            raise StepError(
                f"the expression must build a Polars expression (pl.col(...) …), "
                f"not {type(expr).__name__}",
                param="expression",
            )
        return expr

    def _function(self) -> Callable[[pl.DataFrame], Any]:
        namespace: dict[str, Any] = dict(_SAFE_GLOBALS)
        try:
            exec(self.params.code or "", namespace)
        except Exception as exc:
            raise StepError(f"the code raised {type(exc).__name__}: {exc}", param="code") from None
        function = namespace.get("transform")
        if not callable(function):
            raise StepError("the code must define a function transform(df)", param="code")
        return function  # type: ignore[no-any-return]


__all__ = ["CustomPython", "CustomSQL", "schema_of"]
