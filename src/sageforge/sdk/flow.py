"""`sageforge.Flow`: build a data-preparation flow step by step, preview it, save, export.

```python
flow = (
    sageforge.Flow.from_dataset("churn-raw", target="churn")
    .drop_columns(["customer_id"])
    .strip(["contract", "internet_service"])
    .drop_duplicates()
    .map_values("churn", {"yes": 1, "no": 0})
    .impute(["tenure_months"], strategy="median")
    .clip_outliers(["monthly_charges"], n_std=3)
    .one_hot_encode(["contract", "internet_service"])
    .move_column("churn", "start")
    .split([0.7, 0.2, 0.1])
)
flow.preview(step=3)                        # a Polars DataFrame, computed on this machine
flow.save("churn-prep")
job = flow.export("store://prepared/churn", format="xgboost")
```

Each method checks its parameters at once (a typo fails on that line) and
returns the flow, so calls chain. Previews, `fit`, `transform` and
`apply_record` run the engine locally on a sample (custom Python included);
`save` and `export` go to the server, which checks the flow on its own
sample and runs the export as a processing job over every row.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageforge.core.errors import ValidationError

if TYPE_CHECKING:
    import polars as pl

    from sageforge.data.flow import FlowDocument, RecordPipeline
    from sageforge.sdk._jobs import ProcessingJob
    from sageforge.sdk.session import Session

SAMPLE_ROWS = 5000


def _cols(columns: str | Sequence[str]) -> list[str]:
    return [columns] if isinstance(columns, str) else list(columns)


class Flow:
    """See the module docstring."""

    def __init__(
        self,
        source: str | os.PathLike[str] | None = None,
        *,
        dataset: str | None = None,
        target: str | None = None,
        name: str | None = None,
        session: Session | None = None,
        **read_options: Any,
    ) -> None:
        from sageforge.data.flow import FlowDocument, SourceSpec

        if source is not None and dataset is not None:
            raise ValidationError("give a source or a dataset, not both", field="source")
        src = None
        if source is not None or dataset is not None:
            url = os.fspath(source) if source is not None else None
            if url and "://" not in url:
                url = str(Path(url).expanduser().resolve())
            src = SourceSpec(dataset=dataset, url=url, read_options=read_options)
        self.document: FlowDocument = FlowDocument(source=src, target=target, name=name)
        self.name = name
        self._session = session
        self._samples: dict[tuple[int, str], pl.DataFrame] = {}
        self._pipeline: RecordPipeline | None = None
        self._dirty = True  # changed since the last save

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_dataset(
        cls, dataset: str, *, target: str | None = None, session: Session | None = None
    ) -> Flow:
        """A flow over a dataset imported with `Session.create_dataset`."""
        return cls(dataset=dataset, target=target, session=session)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, session: Session | None = None) -> Flow:
        """A flow from a flow document (as saved, or loaded from JSON)."""
        from sageforge.data.flow import FlowDocument

        flow = cls(session=session)
        flow.document = FlowDocument.from_dict(dict(document))
        flow.name = flow.document.name
        flow._dirty = flow.document.version is None
        return flow

    @classmethod
    def from_json(
        cls, text_or_path: str | os.PathLike[str], *, session: Session | None = None
    ) -> Flow:
        """A flow from JSON text or a `.json` file."""
        import json

        text = os.fspath(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text).read_text()
        return cls.from_dict(json.loads(text), session=session)

    @property
    def session(self) -> Session:
        if self._session is None:
            from sageforge.sdk.session import Session

            self._session = Session()
        return self._session

    def add(self, type: str, **params: Any) -> Flow:
        """Append a step of any type (`sageforge.data.flow.TRANSFORMS` lists them)."""
        from sageforge.data.flow import build_step

        index = len(self.document.steps)
        step = build_step(
            index, {"type": type, "params": {k: v for k, v in params.items() if v is not None}}
        )
        self.document = self.document.with_steps([*self.document.unfitted().steps, step])
        self._pipeline = None
        self._dirty = True
        return self

    def __len__(self) -> int:
        return len(self.document.steps)

    def __repr__(self) -> str:
        steps = "\n".join(
            f"  {i}: {s.type} {s.to_dict()['params']}" for i, s in enumerate(self.document.steps)
        )
        return f"Flow({self.name or ''!r}, {len(self)} steps)\n{steps}"

    def to_dict(self) -> dict[str, Any]:
        return self.document.to_dict()

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The flow document as JSON (also written to `path` if given)."""
        text = self.document.to_json()
        if path is not None:
            Path(path).write_text(text)
        return text

    @property
    def target(self) -> str | None:
        return self.document.target

    @target.setter
    def target(self, value: str | None) -> None:
        self.document.target = value
        self._dirty = True

    # -- manage columns and rows --------------------------------------------------------------

    def drop_columns(self, columns: str | Sequence[str]) -> Flow:
        return self.add("drop_columns", columns=_cols(columns))

    def rename_columns(self, mapping: Mapping[str, str]) -> Flow:
        return self.add("rename_columns", mapping=dict(mapping))

    def duplicate_column(self, column: str, new_column: str) -> Flow:
        return self.add("duplicate_column", column=column, new_column=new_column)

    def cast(
        self, columns: Mapping[str, str], *, on_error: str = "null", format: str | None = None
    ) -> Flow:
        return self.add("cast", columns=dict(columns), on_error=on_error, format=format)

    def move_column(
        self,
        column: str,
        position: str = "start",
        *,
        index: int | None = None,
        other: str | None = None,
    ) -> Flow:
        return self.add("move_column", column=column, position=position, index=index, other=other)

    def drop_duplicates(self, columns: Sequence[str] | None = None, keep: str = "first") -> Flow:
        return self.add("drop_duplicates", columns=list(columns) if columns else None, keep=keep)

    def sort(self, columns: str | Sequence[str], *, descending: bool = False) -> Flow:
        return self.add("sort", columns=_cols(columns), descending=descending)

    def shuffle(self, seed: int = 42) -> Flow:
        return self.add("shuffle", seed=seed)

    def filter(self, expression: str) -> Flow:
        """Keep rows where a SQL expression holds: `"age >= 18 AND plan = 'gold'"`."""
        return self.add("filter", expression=expression)

    # -- missing values ----------------------------------------------------------------------

    def drop_missing(
        self, columns: Sequence[str] | None = None, *, empty_strings: bool = False
    ) -> Flow:
        return self.add(
            "drop_missing", columns=list(columns) if columns else None, empty_strings=empty_strings
        )

    def fill_missing(self, columns: str | Sequence[str], value: Any) -> Flow:
        return self.add("fill_missing", columns=_cols(columns), value=value)

    def impute(self, columns: str | Sequence[str], strategy: str = "median") -> Flow:
        return self.add("impute", columns=_cols(columns), strategy=strategy)

    def missing_indicator(self, columns: str | Sequence[str], suffix: str = "_missing") -> Flow:
        return self.add("missing_indicator", columns=_cols(columns), suffix=suffix)

    # -- strings, search and edit ---------------------------------------------------------------

    def format_string(self, columns: str | Sequence[str], operation: str, **params: Any) -> Flow:
        return self.add("format_string", columns=_cols(columns), operation=operation, **params)

    def strip(self, columns: str | Sequence[str], characters: str | None = None) -> Flow:
        return self.format_string(columns, "strip", characters=characters)

    def lower(self, columns: str | Sequence[str]) -> Flow:
        return self.format_string(columns, "lower")

    def upper(self, columns: str | Sequence[str]) -> Flow:
        return self.format_string(columns, "upper")

    def pad(
        self, columns: str | Sequence[str], width: int, *, side: str = "left", fill_char: str = " "
    ) -> Flow:
        return self.format_string(columns, f"pad_{side}", width=width, fill_char=fill_char)

    def prefix(self, columns: str | Sequence[str], text: str) -> Flow:
        return self.format_string(columns, "prefix", text=text)

    def suffix(self, columns: str | Sequence[str], text: str) -> Flow:
        return self.format_string(columns, "suffix", text=text)

    def remove_symbols(self, columns: str | Sequence[str]) -> Flow:
        return self.format_string(columns, "remove_symbols")

    def find_replace(
        self, columns: str | Sequence[str], find: str, replace: str = "", *, regex: bool = False
    ) -> Flow:
        return self.add(
            "find_replace", columns=_cols(columns), find=find, replace=replace, regex=regex
        )

    def extract(
        self, column: str, pattern: str, *, group: int = 1, new_column: str | None = None
    ) -> Flow:
        return self.add(
            "extract", column=column, pattern=pattern, group=group, new_column=new_column
        )

    def map_values(
        self,
        column: str,
        mapping: Mapping[Any, Any],
        *,
        unmapped: str = "auto",
        new_column: str | None = None,
    ) -> Flow:
        """Replace values, e.g. `map_values("churn", {"yes": 1, "no": 0})`."""
        return self.add(
            "map_values",
            column=column,
            mapping={str(k): v for k, v in mapping.items()},
            unmapped=unmapped,
            new_column=new_column,
        )

    # -- numbers, outliers, categories ------------------------------------------------------------

    def handle_outliers(
        self, columns: str | Sequence[str], method: str = "std", action: str = "clip", **params: Any
    ) -> Flow:
        return self.add(
            "handle_outliers", columns=_cols(columns), method=method, action=action, **params
        )

    def clip_outliers(self, columns: str | Sequence[str], n_std: float = 3.0) -> Flow:
        """Clip values beyond the training rows' mean ± `n_std` standard deviations."""
        return self.handle_outliers(columns, "std", "clip", n_std=n_std)

    def ordinal_encode(self, columns: str | Sequence[str], **params: Any) -> Flow:
        return self.add("ordinal_encode", columns=_cols(columns), **params)

    def one_hot_encode(self, columns: str | Sequence[str], **params: Any) -> Flow:
        return self.add("one_hot_encode", columns=_cols(columns), **params)

    def target_encode(
        self, columns: str | Sequence[str], target: str | None = None, smoothing: float = 10.0
    ) -> Flow:
        target = target or self.document.target
        if not target:
            raise ValidationError("give target= or set the flow's target", field="target")
        return self.add("target_encode", columns=_cols(columns), target=target, smoothing=smoothing)

    def scale(self, columns: str | Sequence[str], method: str = "standard") -> Flow:
        return self.add("scale", columns=_cols(columns), method=method)

    def log(self, columns: str | Sequence[str], *, base: str = "e", offset: float = 0.0) -> Flow:
        return self.add("log", columns=_cols(columns), base=base, offset=offset)

    def bin(self, columns: str | Sequence[str], method: str = "quantile", **params: Any) -> Flow:
        return self.add("bin", columns=_cols(columns), method=method, **params)

    def featurize_datetime(
        self, column: str, features: Sequence[str] | None = None, **params: Any
    ) -> Flow:
        return self.add(
            "featurize_datetime",
            column=column,
            features=list(features) if features else None,
            **params,
        )

    def featurize_text(
        self, column: str, features: Sequence[str] | None = None, **params: Any
    ) -> Flow:
        return self.add(
            "featurize_text", column=column, features=list(features) if features else None, **params
        )

    def balance(
        self, target: str | None = None, method: str = "random_oversample", **params: Any
    ) -> Flow:
        target = target or self.document.target
        if not target:
            raise ValidationError("give target= or set the flow's target", field="target")
        return self.add("balance", target=target, method=method, **params)

    def split(
        self,
        fractions: Sequence[float] = (0.7, 0.2, 0.1),
        method: str = "randomized",
        *,
        names: Sequence[str] | None = None,
        seed: int = 42,
        stratify_column: str | None = None,
        key_columns: Sequence[str] | None = None,
    ) -> Flow:
        return self.add(
            "split",
            fractions=list(fractions),
            method=method,
            names=list(names) if names else None,
            seed=seed,
            stratify_column=stratify_column,
            key_columns=list(key_columns) if key_columns else None,
        )

    def sql(self, query: str) -> Flow:
        """A DuckDB query over the current table, named `df`."""
        return self.add("custom_sql", sql=query)

    def python(
        self,
        expression: str | None = None,
        output_column: str | None = None,
        *,
        code: str | None = None,
    ) -> Flow:
        """A Polars expression into `output_column`, or `code` defining `transform(df)`."""
        mode = "function" if code is not None else "expression"
        return self.add(
            "custom_python",
            mode=mode,
            expression=expression,
            output_column=output_column,
            code=code,
        )

    def destination(
        self, url: str, format: str = "parquet", splits: Sequence[str] | None = None
    ) -> Flow:
        """Where `export` writes each split (`<url>/<split>/part-00000.<ext>`)."""
        from sageforge.data.flow import DestinationSpec

        self.document.destinations.append(
            DestinationSpec(url=url, format=format, splits=list(splits) if splits else None)  # type: ignore[arg-type]
        )
        self.document.check_structure()
        self._dirty = True
        return self

    # -- running locally ------------------------------------------------------------------------

    def data(self, size: int = SAMPLE_ROWS, method: str = "first") -> pl.DataFrame:
        """A sample of the source: read here if it is a local file, else asked of the server."""
        src = self.document.source
        if src is None:
            raise ValidationError("the flow has no source to sample", field="source")
        key = (size, method)
        if key in self._samples:
            return self._samples[key]
        if src.url and "://" not in src.url and Path(src.url).exists():
            from sageforge.data.io import ReadOptions, read_table

            df = read_table(
                src.url,
                ReadOptions.model_validate(src.read_options),
                limit=size,
                sample="random" if method == "random" else "first",
            )
        elif src.dataset:
            df = self.session.dataset_sample(src.dataset, size, method)
        else:
            df = self.session.sample(
                src.url or "", size=size, method=method, options=src.read_options
            )
        self._samples[key] = df
        return df

    def preview(
        self, step: int | None = None, n: int = 20, *, data: pl.DataFrame | None = None
    ) -> pl.DataFrame:
        """The first `n` rows after step `step` (default: the last), fitted on the sample."""
        from sageforge.data.flow import preview

        return preview(self.document, self.data() if data is None else data, step, n)

    def check(self, data: pl.DataFrame | None = None) -> dict[str, Any]:
        """Run every step on the sample here: the columns after each, and warnings."""
        from sageforge.data.flow import check_flow

        sample = self.data() if data is None else data
        found = check_flow(self.document, sample.schema, sample)
        return {
            "output_schema": found.output_schema,
            "warnings": found.warnings,
            "step_schemas": found.schemas,
        }

    def fit(self, data: pl.DataFrame | None = None) -> Flow:
        """Learn every step's state on `data` (default: the sample) here."""
        from sageforge.data.flow import fit

        self.document = fit(self.document.unfitted(), self.data() if data is None else data)
        self._pipeline = None
        return self

    def transform(self, data: pl.DataFrame) -> dict[str, pl.DataFrame]:
        """Apply the fitted flow to new rows: {split: rows} (one `all` part without a split)."""
        from sageforge.data.flow import split_frames, transform

        return split_frames(self.document, transform(self.document, data))

    def apply_record(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """One raw record through the fitted flow (what an endpoint does per request)."""
        from sageforge.data.flow import RecordPipeline

        if self._pipeline is None:
            self._pipeline = RecordPipeline(self.document)
        return self._pipeline(record)

    # -- on the server ---------------------------------------------------------------------------

    def save(self, name: str | None = None, description: str = "") -> dict[str, Any]:
        """Save on the server (checked there on its sample); a new version if the name exists."""
        name = name or self.name
        if not name:
            raise ValidationError("give the flow a name", field="name")
        src = self.document.source
        if src is not None and src.url and "://" not in src.url:
            # A local file: the server reads it in place when it runs here, else from an upload.
            url = self.session._as_url(src.url, f"uploads/flows/{name}")
            self.document.source = src.model_copy(update={"url": url})
        desc = self.session.save_flow(name, self.document.to_dict(), description)
        self.name = name
        self.document.version = desc["version"]
        self._dirty = False
        return desc

    def export(
        self,
        url: str | None = None,
        format: str = "xgboost",
        *,
        splits: Sequence[str] | None = None,
        refit: bool = True,
        wait: bool = False,
    ) -> ProcessingJob:
        """Save (if needed) and run the flow over every row as a processing job.

        With `url`, the splits go to `<url>/<split>/` in `format` (`xgboost`:
        CSV, target first, no header; `csv`; `parquet`), else to the flow's
        destinations. `wait=True` waits and raises if the job fails.
        """
        if url is not None:
            self.document.destinations = []
            self.destination(url, format, splits)
        if self._dirty or self.name is None or self.document.version is None:
            self.save(self.name or _default_name())
        assert self.name is not None
        job = self.session.export_flow(
            self.name,
            destinations=[d.model_dump(mode="json") for d in self.document.destinations],
            version=self.document.version,
            refit=refit,
        )
        if wait:
            job.wait(raise_on_failure=True)
        return job

    @property
    def outputs(self) -> dict[str, str]:
        """{split: URL} of the first destination: what a training channel takes."""
        if not self.document.destinations:
            return {}
        base = self.document.destinations[0].url.rstrip("/")
        return {name: f"{base}/{name}" for name in self.document.split_names()}


def _default_name() -> str:
    from sageforge.core.names import unique_name

    return unique_name("flow")
