"""Datasets as resources, samples for previews, and insights reports as processing jobs."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Database, utcnow
from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.core.names import make_arn, unique_name, validate_name, validate_tags
from sageforge.core.store import ArtifactStore
from sageforge.data._models import DatasetRecord, FlowRecord, FlowVersionRecord
from sageforge.data._sources import SampleCache, local_source, rows_json
from sageforge.data._spec import CreateDataset, CreateReport, SampleRequest
from sageforge.data.flow import dtype_name
from sageforge.data.io import ReadOptions, check_structure, count_rows, data_files, infer_format
from sageforge.data.processing import CreateProcessingJob, ProcessingJobService

INFER_SAMPLE = 10_000
_IN = "/opt/ml/processing/input/data"
_OUT = "/opt/ml/processing/output/report"


class DatasetService:
    """Import, describe, list, delete datasets; sample them; report on them."""

    def __init__(
        self, db: Database, store: ArtifactStore, processing: ProcessingJobService
    ) -> None:
        self.db = db
        self.store = store
        self.processing = processing
        self.samples = SampleCache(store)

    # -- resources -----------------------------------------------------------------

    def create(self, req: CreateDataset) -> dict[str, Any]:
        """Read the source's structure and schema now, so a bad file is refused at import."""
        name = validate_name(req.dataset_name, "dataset_name")
        tags = validate_tags([t.model_dump() for t in req.tags])
        options = req.read_options
        with self.db.session() as s:
            if s.scalar(sa.select(DatasetRecord.id).where(DatasetRecord.name == name)):
                raise ResourceInUse(
                    f"a dataset named {name!r} already exists", field="dataset_name"
                )
        with local_source(self.store, req.source_url) as path:
            files = data_files(path, options)
            fmt = infer_format(files[0].name, options)
            check_structure(path, options)
            inferred = self.samples.sample(
                req.source_url, options.model_copy(update={"schema_overrides": {}}), INFER_SAMPLE
            ).schema
            sample = self.samples.sample(req.source_url, options, INFER_SAMPLE)
            for col in options.schema_overrides:
                if col not in sample.columns:
                    raise ValidationError(
                        f"no column {col!r} to override; columns are {', '.join(sample.columns[:30])}",
                        field=f"read_options.schema_overrides.{col}",
                    )
            rows = count_rows(path, options)
            size = sum(f.stat().st_size for f in files)
        schema = [
            {"name": c, "type": dtype_name(t), "inferred_type": dtype_name(inferred.get(c, t))}
            for c, t in sample.schema.items()
        ]
        now = utcnow()
        with self.db.session() as s:
            s.add(
                DatasetRecord(
                    name=name,
                    arn=make_arn("dataset", name),
                    source_url=req.source_url,
                    format=fmt,
                    read_options=options.model_dump(mode="json", exclude_defaults=True),
                    schema=schema,
                    row_count=rows,
                    size_bytes=size,
                    description=req.description,
                    creation_time=now,
                    last_modified_time=now,
                )
            )
            s.commit()
        del tags  # accepted for SageMaker parity; datasets are not taggable resources yet
        return self.describe(name)

    def _get(self, s: Any, name: str) -> DatasetRecord:
        row = s.scalar(sa.select(DatasetRecord).where(DatasetRecord.name == name))
        if row is None:
            raise ResourceNotFound(f"no dataset named {name!r}", field="dataset_name")
        return row  # type: ignore[no-any-return]

    def describe(self, name: str) -> dict[str, Any]:
        with self.db.session() as s:
            return self._render(self._get(s, name))

    def options(self, name: str) -> tuple[str, ReadOptions]:
        """The dataset's source URL and read options (with the user's type overrides).

        Inferred types are not pinned: a full read re-infers them from every row,
        which a 10,000-row sample cannot always get right.
        """
        with self.db.session() as s:
            row = self._get(s, name)
            return row.source_url, ReadOptions.model_validate(row.read_options)

    def list(
        self, name_contains: str | None = None, max_results: int = 100, offset: int = 0
    ) -> dict[str, Any]:
        with self.db.session() as s:
            q = sa.select(DatasetRecord).order_by(
                DatasetRecord.creation_time.desc(), DatasetRecord.id.desc()
            )
            if name_contains:
                q = q.where(DatasetRecord.name.contains(name_contains))
            q = q.offset(max(0, offset))
            rows = s.scalars(q.limit(max(1, min(max_results, 1000)))).all()
            return {"dataset_summaries": [self._summary(r) for r in rows]}

    def delete(self, name: str) -> None:
        """Delete the record (never the data); refused while a flow reads it."""
        with self.db.session() as s:
            row = self._get(s, name)
            for flow in s.scalars(sa.select(FlowRecord)).all():
                latest = s.scalar(
                    sa.select(FlowVersionRecord).where(
                        FlowVersionRecord.flow_id == flow.id,
                        FlowVersionRecord.version == flow.latest_version,
                    )
                )
                source = (latest.document if latest else {}).get("source") or {}
                if source.get("dataset") == name:
                    raise ResourceInUse(
                        f"flow {flow.name!r} reads dataset {name!r}; delete the flow first",
                        field="dataset_name",
                    )
            s.delete(row)
            s.commit()

    @staticmethod
    def _summary(row: DatasetRecord) -> dict[str, Any]:
        return {
            "dataset_name": row.name,
            "dataset_arn": row.arn,
            "source_url": row.source_url,
            "format": row.format,
            "row_count": row.row_count,
            "column_count": len(row.schema),
            "creation_time": row.creation_time,
        }

    def _render(self, row: DatasetRecord) -> dict[str, Any]:
        return {
            **self._summary(row),
            "read_options": row.read_options,
            "schema": row.schema,
            "size_bytes": row.size_bytes,
            "description": row.description,
            "last_modified_time": row.last_modified_time,
        }

    # -- samples -------------------------------------------------------------------

    def sample(
        self, name: str, size: int = 100, method: str = "first", seed: int = 0
    ) -> dict[str, Any]:
        url, options = self.options(name)
        return rows_json(self.samples.sample(url, options, size, method, seed))

    def sample_url(self, req: SampleRequest) -> dict[str, Any]:
        return rows_json(
            self.samples.sample(req.source_url, req.read_options, req.size, req.method, req.seed)
        )

    # -- insights report -------------------------------------------------------------

    def report(self, req: CreateReport) -> dict[str, Any]:
        """Start the report job; the HTML and JSON land at `output_path`."""
        if (req.dataset_name is None) == (req.source_url is None):
            raise ValidationError("give dataset_name or source_url", field="dataset_name")
        if req.dataset_name is not None:
            url, options = self.options(req.dataset_name)
            columns = [c["name"] for c in self.describe(req.dataset_name)["schema"]]
            label = req.dataset_name
        else:
            url, options = req.source_url or "", req.read_options
            columns = self.samples.sample(url, options, 100).columns
            label = url
        if req.target is not None and req.target not in columns:
            raise ValidationError(
                f"no column {req.target!r}; columns are {', '.join(columns[:30])}", field="target"
            )
        name = (
            validate_name(req.job_name, "job_name")
            if req.job_name
            else unique_name(f"report-{req.dataset_name or 'data'}")
        )
        output = (req.output_path or f"store://reports/{name}").rstrip("/")
        self.store.resolve(output, field="output_path")
        args = [
            "-m", "sageforge.data.insights.run",
            "--data", _IN,
            "--output", _OUT,
            "--read-options", json.dumps(options.model_dump(mode="json", exclude_defaults=True)),
            "--sample-method", req.sample_method,
            "--title", f"Data Quality and Insights: {label}",
            "--source", url,
        ]  # fmt: skip
        if req.target:
            args += ["--target", req.target]
        if req.problem_type:
            args += ["--problem-type", req.problem_type]
        if req.sample_size:
            args += ["--sample", str(req.sample_size)]
        job = self.processing.create(
            CreateProcessingJob.model_validate(
                {
                    "processing_job_name": name,
                    "app_specification": {
                        "container_entrypoint": ["python3"],
                        "container_arguments": args,
                    },
                    "processing_inputs": [
                        {"input_name": "data", "s3_input": {"s3_uri": url, "local_path": _IN}}
                    ],
                    "processing_output_config": {
                        "outputs": [
                            {
                                "output_name": "report",
                                "s3_output": {"s3_uri": output, "local_path": _OUT},
                            }
                        ]
                    },
                }
            )
        )
        return {
            "processing_job_name": name,
            "processing_job_status": job["processing_job_status"],
            "report_url": f"{output}/report.html",
            "report_json_url": f"{output}/report.json",
        }
