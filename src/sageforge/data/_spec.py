"""Requests of the data-preparation API (snake_case, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sageforge.core.spec import Spec, TagSpec
from sageforge.data.io import ReadOptions

MAX_SAMPLE = 100_000


class CreateDataset(Spec):
    """Import a table: record where it is, how to read it, its schema and row count."""

    dataset_name: str
    source_url: Annotated[str, Field(min_length=1, max_length=2048)]
    """A store key (`store://…`), any fsspec URL, or an absolute path on the server."""
    read_options: ReadOptions = ReadOptions()
    description: Annotated[str, Field(max_length=1024)] = ""
    tags: Annotated[list[TagSpec], Field(max_length=50)] = []


class SampleRequest(Spec):
    """Rows of a source, for a preview: the first `size` rows or a random `size` rows."""

    source_url: Annotated[str, Field(min_length=1, max_length=2048)]
    read_options: ReadOptions = ReadOptions()
    size: Annotated[int, Field(ge=1, le=MAX_SAMPLE)] = 100
    method: Literal["first", "random"] = "first"
    seed: int = 0


class CreateReport(Spec):
    """Run the Data Quality and Insights report as a processing job."""

    dataset_name: str | None = None
    source_url: str | None = None
    """Instead of a dataset: a URL (with `read_options`)."""
    read_options: ReadOptions = ReadOptions()
    target: str | None = None
    problem_type: Literal["binary", "multiclass", "regression"] | None = None
    sample_size: Annotated[int | None, Field(ge=100)] = None
    """Analyse only this many rows (default: every row)."""
    sample_method: Literal["first", "random"] = "first"
    job_name: str | None = None
    output_path: str | None = None
    """Where report.html and report.json go (default `store://reports/<job name>`)."""


class SaveFlow(Spec):
    """Save a flow document; saving an existing name adds a version."""

    flow_name: str
    document: dict[str, Any]
    description: Annotated[str, Field(max_length=1024)] = ""


class CheckFlow(Spec):
    """Validate (and optionally preview) a flow document against its source's sample."""

    document: dict[str, Any]
    step: int | None = None
    """Preview rows after this step (default: the last step)."""
    rows: Annotated[int, Field(ge=1, le=1000)] = 20
    sample_size: Annotated[int, Field(ge=10, le=MAX_SAMPLE)] = 5000


class ExportFlow(Spec):
    """Run a saved flow over every row of its source as a processing job."""

    version: Annotated[int | None, Field(ge=1)] = None
    job_name: str | None = None
    source_url: str | None = None
    """Run on other data than the flow's source (same columns)."""
    destinations: list[dict[str, Any]] | None = None
    """Override the flow's destinations: [{url, format, splits}]."""
    refit: bool = True
    """Refit on all rows (default) or apply the version's fitted state."""
    max_runtime_in_seconds: Annotated[int, Field(ge=1)] = 86400
