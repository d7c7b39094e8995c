"""`Session`'s data-preparation calls: datasets, samples, insights reports, flows.

Kept apart from `session.py` (which mixes this in) so the data capability
owns its client code; every call is one HTTP request to `/api/v1`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sageforge.core.errors import ValidationError
from sageforge.sdk._jobs import JobFailed, ProcessingJob

if TYPE_CHECKING:
    import polars as pl

    from sageforge.sdk._client import ApiClient
    from sageforge.sdk.flow import Flow


def read_options(
    *,
    format: str | None = None,
    delimiter: str | None = None,
    has_header: bool | None = None,
    encoding: str | None = None,
    quote_char: str | None = None,
    null_values: Sequence[str] | None = None,
    schema_overrides: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """ReadOptions as a dict, from keyword arguments (None means the default)."""
    out = dict(options or {})
    given = {
        "format": format,
        "delimiter": delimiter,
        "has_header": has_header,
        "encoding": encoding,
        "quote_char": quote_char,
        "null_values": list(null_values) if null_values is not None else None,
        "schema_overrides": dict(schema_overrides) if schema_overrides else None,
    }
    out.update({k: v for k, v in given.items() if v is not None})
    return out


def frame_from_rows(body: Mapping[str, Any]) -> pl.DataFrame:
    """The {schema, rows} the API returns, as a Polars DataFrame with those types."""
    import polars as pl

    from sageforge.data.flow import dtype_from_name

    schema = {}
    for name in body["columns"]:
        try:
            schema[name] = dtype_from_name(body["schema"][name])
        except ValueError:
            schema[name] = pl.String()
    rows = body["rows"]
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in body["columns"]}, schema=schema, strict=False
    )


class InsightsReport(dict):  # type: ignore[type-arg]
    """report.json as a dict, with where the HTML is (`html_url`, `local_html`)."""

    html_url: str
    local_html: str | None

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return list(self.get("warnings", []))


class DataMixin:
    """Datasets, reports and flows; mixed into `sageforge.Session`."""

    api: ApiClient

    if TYPE_CHECKING:

        def _as_url(self, value: str | os.PathLike[str], key_prefix: str) -> str: ...
        def read_bytes(self, url: str) -> bytes: ...
        def processing_job(self, name: str) -> ProcessingJob: ...

    # -- datasets ------------------------------------------------------------------------

    def create_dataset(
        self,
        name: str,
        source: str | os.PathLike[str],
        *,
        description: str = "",
        **options: Any,
    ) -> dict[str, Any]:
        """Import a table (a local path, `store://…` or any URL) as dataset `name`.

        `options`: format, delimiter, has_header, encoding, quote_char,
        null_values, schema_overrides ({column: type}).
        """
        body = {
            "dataset_name": name,
            "source_url": self._as_url(source, f"datasets/{name}"),
            "read_options": read_options(**options),
            "description": description,
        }
        return dict(self.api.post("/datasets", body))

    def dataset(self, name: str) -> dict[str, Any]:
        """A dataset's description: source, read options, schema, row count."""
        return dict(self.api.get(f"/datasets/{name}"))

    def list_datasets(self, name_contains: str | None = None) -> list[dict[str, Any]]:
        return list(self.api.get("/datasets", name_contains=name_contains)["dataset_summaries"])

    def delete_dataset(self, name: str) -> None:
        self.api.request("DELETE", f"/datasets/{name}")

    def dataset_sample(self, name: str, size: int = 100, method: str = "first") -> pl.DataFrame:
        """The first (or a random) `size` rows of a dataset."""
        return frame_from_rows(self.api.get(f"/datasets/{name}/sample", size=size, method=method))

    def sample(
        self, source: str, *, size: int = 100, method: str = "first", **options: Any
    ) -> pl.DataFrame:
        """Rows of any source the server can read."""
        body = {
            "source_url": self._as_url(source, "uploads/samples"),
            "read_options": read_options(**options),
            "size": size,
            "method": method,
        }
        return frame_from_rows(self.api.post("/samples", body))

    # -- insights ------------------------------------------------------------------------

    def insights_report(
        self,
        dataset: str | None = None,
        *,
        source: str | os.PathLike[str] | None = None,
        target: str | None = None,
        problem_type: str | None = None,
        sample_size: int | None = None,
        sample_method: str = "first",
        output_path: str | None = None,
        wait: bool = True,
        **options: Any,
    ) -> InsightsReport:
        """The Data Quality and Insights report of a dataset (or any source).

        Runs as a processing job; with `wait` (default) returns report.json as a
        dict, its HTML at `.html_url` (and `.local_html` when the store is local).
        """
        body: dict[str, Any] = {
            "target": target,
            "problem_type": problem_type,
            "sample_size": sample_size,
            "sample_method": sample_method,
            "output_path": output_path,
        }
        if dataset is not None:
            body["dataset_name"] = dataset
        elif source is not None:
            body["source_url"] = self._as_url(source, "uploads/reports")
            body["read_options"] = read_options(**options)
        else:
            raise ValidationError("give a dataset name or a source", field="dataset")
        started = self.api.post(
            "/insights-reports", {k: v for k, v in body.items() if v is not None}
        )
        job = ProcessingJob(self, started["processing_job_name"])  # type: ignore[arg-type]
        report = InsightsReport({"processing_job_name": job.name})
        report.html_url = started["report_url"]
        report.local_html = self._local_file(report.html_url)
        if not wait:
            return report
        desc = job.wait()
        if desc["processing_job_status"] != "Completed":
            raise JobFailed(f"insights report job {job.name} failed: {desc.get('failure_reason')}")
        report.update(json.loads(self.read_bytes(started["report_json_url"])))
        return report

    def _local_file(self, url: str) -> str | None:
        store = str(self.api.get("/info").get("store_url", ""))
        if store.startswith("file://") and url.startswith("store://"):
            return store.removeprefix("file://") + "/" + url.removeprefix("store://")
        return None

    # -- flows ---------------------------------------------------------------------------

    def save_flow(
        self, name: str, document: Mapping[str, Any], description: str = ""
    ) -> dict[str, Any]:
        """Validate a flow document on its source and save it (a new version if it exists)."""
        body = {"flow_name": name, "document": dict(document), "description": description}
        return dict(self.api.post("/flows", body))

    def validate_flow(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The server's check of a document: columns after each step, warnings."""
        return dict(self.api.post("/flows/validate", {"document": dict(document)}))

    def flow(self, name: str, version: int | None = None) -> Flow:
        """A saved flow as a `Flow` builder (fitted if an export fitted it)."""
        from sageforge.sdk.flow import Flow

        desc = self.api.get(f"/flows/{name}", version=version)
        doc = desc["fitted_document"] or desc["document"]
        flow = Flow.from_dict(doc, session=self)  # type: ignore[arg-type]
        flow.name = name
        return flow

    def describe_flow(self, name: str, version: int | None = None) -> dict[str, Any]:
        return dict(self.api.get(f"/flows/{name}", version=version))

    def list_flows(self, name_contains: str | None = None) -> list[dict[str, Any]]:
        return list(self.api.get("/flows", name_contains=name_contains)["flow_summaries"])

    def delete_flow(self, name: str) -> None:
        self.api.request("DELETE", f"/flows/{name}")

    def export_flow(
        self,
        name: str,
        *,
        destinations: Sequence[Mapping[str, Any]] | None = None,
        version: int | None = None,
        source: str | os.PathLike[str] | None = None,
        refit: bool = True,
        job_name: str | None = None,
    ) -> ProcessingJob:
        """Run a saved flow over every row as a processing job; returns the job."""
        body: dict[str, Any] = {"refit": refit}
        if destinations is not None:
            body["destinations"] = [dict(d) for d in destinations]
        if version is not None:
            body["version"] = version
        if source is not None:
            body["source_url"] = self._as_url(source, f"uploads/flows/{name}")
        if job_name:
            body["job_name"] = job_name
        started = self.api.post(f"/flows/{name}/export", body)
        return self.processing_job(started["processing_job_name"])
