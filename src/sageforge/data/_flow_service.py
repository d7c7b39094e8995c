"""Flows as resources: validate against a sample, save versions, preview, export as a job.

The server checks a flow by running it on a sample of its source (so a step
naming a missing column, or one that fails on the data, is refused at save
time, naming the step). It never runs custom Python: that runs in the export
job and in the SDK's local preview.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import sqlalchemy as sa

from sageforge.core.db import Database, utcnow
from sageforge.core.errors import ResourceNotFound, ValidationError
from sageforge.core.names import make_arn, unique_name, validate_name
from sageforge.core.store import ArtifactStore
from sageforge.data._dataset_service import DatasetService
from sageforge.data._models import FlowRecord, FlowVersionRecord
from sageforge.data._sources import rows_json
from sageforge.data._spec import CheckFlow, ExportFlow, SaveFlow
from sageforge.data.flow import DestinationSpec, FlowDocument, check_flow, preview
from sageforge.data.io import ReadOptions
from sageforge.data.processing import CreateProcessingJob, ProcessingJobService

CHECK_SAMPLE = 5000
_FLOW_IN = "/opt/ml/processing/input/flow"
_DATA_IN = "/opt/ml/processing/input/data"


class FlowService:
    """Save, describe, list, delete, check, preview and export flows."""

    def __init__(
        self,
        db: Database,
        store: ArtifactStore,
        processing: ProcessingJobService,
        datasets: DatasetService,
    ) -> None:
        self.db = db
        self.store = store
        self.processing = processing
        self.datasets = datasets

    # -- reading a flow's source -------------------------------------------------------

    def source_of(self, doc: FlowDocument) -> tuple[str, ReadOptions]:
        """(URL, read options) of the flow's source."""
        src = doc.source
        if src is None or (src.dataset is None and src.url is None):
            raise ValidationError("a flow needs a source: a dataset or a url", field="source")
        if src.dataset is not None:
            return self.datasets.options(src.dataset)
        try:
            options = ReadOptions.model_validate(src.read_options)
        except Exception as exc:
            raise ValidationError(str(exc).splitlines()[0], field="source.read_options") from None
        return src.url or "", options

    def _sample(self, doc: FlowDocument, size: int) -> pl.DataFrame:
        url, options = self.source_of(doc)
        field = "source.dataset" if doc.source and doc.source.dataset else "source.url"
        return self.datasets.samples.sample(url, options, size, field=field)

    def check(self, req: CheckFlow) -> dict[str, Any]:
        """Validate a document on its source's sample: columns after each step, warnings."""
        doc = FlowDocument.from_dict(req.document)
        sample = self._sample(doc, req.sample_size)
        found = check_flow(doc, sample.schema, sample, allow_code=False)
        return {
            "valid": True,
            "warnings": found.warnings,
            "output_schema": found.output_schema,
            "step_schemas": found.schemas,
        }

    def preview(self, req: CheckFlow) -> dict[str, Any]:
        """The rows after a step, on the source's sample (fitted on it)."""
        doc = FlowDocument.from_dict(req.document)
        last = len(doc.steps) - 1 if req.step is None else req.step
        for i, step in enumerate(doc.steps[: last + 1]):
            if step.transform.runs_code:
                raise ValidationError(
                    f"step {i} runs custom Python, which the server does not run; preview the "
                    "flow with the SDK (Flow.preview), which runs it on your machine",
                    field=f"steps[{i}]",
                )
        sample = self._sample(doc, req.sample_size)
        out = preview(doc, sample, last, req.rows)
        return {"step": last, **rows_json(out)}

    # -- resources ---------------------------------------------------------------------

    def save(self, req: SaveFlow) -> dict[str, Any]:
        """Validate, then store the document as the flow's next version."""
        name = validate_name(req.flow_name, "flow_name")
        doc = FlowDocument.from_dict(req.document)
        sample = self._sample(doc, CHECK_SAMPLE)
        found = check_flow(doc, sample.schema, sample, allow_code=False)
        for i, dest in enumerate(doc.destinations):
            self.store.resolve(dest.url, field=f"destinations[{i}].url")
        doc.name = name
        now = utcnow()
        with self.db.session() as s:
            flow = s.scalar(sa.select(FlowRecord).where(FlowRecord.name == name))
            if flow is None:
                flow = FlowRecord(
                    name=name,
                    arn=make_arn("flow", name),
                    latest_version=0,
                    description=req.description,
                    creation_time=now,
                )
                s.add(flow)
                s.flush()
            flow.latest_version += 1
            flow.last_modified_time = now
            if req.description:
                flow.description = req.description
            doc.version = flow.latest_version
            s.add(
                FlowVersionRecord(
                    flow_id=flow.id,
                    version=flow.latest_version,
                    document=doc.to_dict(),
                    fitted_document=doc.to_dict() if doc.is_fitted else None,
                    creation_time=now,
                )
            )
            s.commit()
        return {**self.describe(name), "warnings": found.warnings}

    def _flow(self, s: Any, name: str) -> FlowRecord:
        flow = s.scalar(sa.select(FlowRecord).where(FlowRecord.name == name))
        if flow is None:
            raise ResourceNotFound(f"no flow named {name!r}", field="flow_name")
        return flow  # type: ignore[no-any-return]

    def _version(self, s: Any, flow: FlowRecord, version: int | None) -> FlowVersionRecord:
        v = flow.latest_version if version is None else version
        row = s.scalar(
            sa.select(FlowVersionRecord).where(
                FlowVersionRecord.flow_id == flow.id, FlowVersionRecord.version == v
            )
        )
        if row is None:
            raise ResourceNotFound(
                f"flow {flow.name!r} has no version {v} (latest is {flow.latest_version})",
                field="version",
            )
        return row  # type: ignore[no-any-return]

    def describe(self, name: str, version: int | None = None) -> dict[str, Any]:
        """The flow with one version's document (default: the latest)."""
        self._settle_export(name)
        with self.db.session() as s:
            flow = self._flow(s, name)
            row = self._version(s, flow, version)
            return {
                "flow_name": flow.name,
                "flow_arn": flow.arn,
                "version": row.version,
                "latest_version": flow.latest_version,
                "description": flow.description,
                "document": row.document,
                "fitted": row.fitted_document is not None,
                "fitted_document": row.fitted_document,
                "fitted_by_job": row.fitted_by_job,
                "last_export_job": flow.last_export_job,
                "creation_time": flow.creation_time,
                "last_modified_time": flow.last_modified_time,
            }

    def list(
        self, name_contains: str | None = None, max_results: int = 100, offset: int = 0
    ) -> dict[str, Any]:
        with self.db.session() as s:
            q = sa.select(FlowRecord).order_by(
                FlowRecord.last_modified_time.desc(), FlowRecord.id.desc()
            )
            if name_contains:
                q = q.where(FlowRecord.name.contains(name_contains))
            q = q.offset(max(0, offset))
            rows = s.scalars(q.limit(max(1, min(max_results, 1000)))).all()
            return {
                "flow_summaries": [
                    {
                        "flow_name": f.name,
                        "flow_arn": f.arn,
                        "latest_version": f.latest_version,
                        "last_export_job": f.last_export_job,
                        "creation_time": f.creation_time,
                        "last_modified_time": f.last_modified_time,
                    }
                    for f in rows
                ]
            }

    def delete(self, name: str) -> None:
        with self.db.session() as s:
            s.delete(self._flow(s, name))
            s.commit()

    # -- export ----------------------------------------------------------------------------

    def export(self, name: str, req: ExportFlow) -> dict[str, Any]:
        """Start a processing job that runs the flow over every row and writes the splits."""
        desc = self.describe(name, req.version)
        fitted = desc["fitted_document"] if not req.refit else None
        if not req.refit and fitted is None:
            raise ValidationError(
                f"version {desc['version']} of {name!r} is not fitted yet; export with refit",
                field="refit",
            )
        doc = FlowDocument.from_dict(fitted or desc["document"])
        if req.destinations is not None:
            try:
                doc.destinations = [DestinationSpec.model_validate(d) for d in req.destinations]
            except Exception as exc:
                raise ValidationError(
                    str(exc).splitlines()[-1].strip(), field="destinations"
                ) from None
            doc.check_structure()
        if not doc.destinations:
            raise ValidationError(
                "the flow has no destinations; give destinations [{url, format}]",
                field="destinations",
            )
        url, options = self.source_of(doc) if req.source_url is None else (req.source_url, None)
        if options is not None:
            doc.source = doc.source.model_copy(  # type: ignore[union-attr]
                update={"read_options": options.model_dump(mode="json", exclude_defaults=True)}
            )
        job = (
            validate_name(req.job_name, "job_name") if req.job_name else unique_name(f"flow-{name}")
        )
        flow_url = self.store.put_bytes(
            f"flows/{name}/v{desc['version']}/{job}/flow.json", doc.to_json().encode()
        )
        outputs, args = (
            [],
            ["-m", "sageforge.data.flow.run", "--flow", _FLOW_IN, "--data", _DATA_IN],
        )
        for i, dest in enumerate(doc.destinations):
            self.store.resolve(dest.url, field=f"destinations[{i}].url")
            local = f"/opt/ml/processing/output/destination-{i}"
            outputs.append(
                {
                    "output_name": f"destination-{i}",
                    "s3_output": {"s3_uri": dest.url, "local_path": local},
                }
            )
            args += ["--output", local]
        if not req.refit:
            args.append("--no-refit")
        started = self.processing.create(
            CreateProcessingJob.model_validate(
                {
                    "processing_job_name": job,
                    "app_specification": {
                        "container_entrypoint": ["python3"],
                        "container_arguments": args,
                    },
                    "processing_inputs": [
                        {
                            "input_name": "flow",
                            "s3_input": {"s3_uri": flow_url, "local_path": _FLOW_IN},
                        },
                        {"input_name": "data", "s3_input": {"s3_uri": url, "local_path": _DATA_IN}},
                    ],
                    "processing_output_config": {"outputs": outputs},
                    "stopping_condition": {"max_runtime_in_seconds": req.max_runtime_in_seconds},
                    "environment": {
                        "SAGEFORGE_FLOW": name,
                        "SAGEFORGE_FLOW_VERSION": str(desc["version"]),
                    },
                }
            )
        )
        with self.db.session() as s:
            self._flow(s, name).last_export_job = job
            s.commit()
        return {
            "flow_name": name,
            "version": desc["version"],
            "processing_job_name": job,
            "processing_job_status": started["processing_job_status"],
            "destinations": [d.model_dump(mode="json") for d in doc.destinations],
            "split_names": doc.split_names(),
        }

    def _settle_export(self, name: str) -> None:
        """Once the last export job completed, keep the fitted flow it wrote on its version."""
        with self.db.session() as s:
            flow = s.scalar(sa.select(FlowRecord).where(FlowRecord.name == name))
            if flow is None or not flow.last_export_job:
                return
            try:
                job = self.processing.describe(flow.last_export_job)
            except ResourceNotFound:
                return
            if job["processing_job_status"] != "Completed":
                return
            env = job.get("environment") or {}
            version = int(env.get("SAGEFORGE_FLOW_VERSION", flow.latest_version))
            row = s.scalar(
                sa.select(FlowVersionRecord).where(
                    FlowVersionRecord.flow_id == flow.id, FlowVersionRecord.version == version
                )
            )
            if row is None or row.fitted_by_job == flow.last_export_job:
                return
            outputs = (job.get("processing_output_config") or {}).get("outputs") or []
            if not outputs:
                return
            key = self.store.key_of(outputs[0]["s3_output"]["s3_uri"].rstrip("/") + "/flow.json")
            if key is None or not self.store.exists(key):
                return
            row.fitted_document = json.loads(self.store.get_bytes(key))
            row.fitted_by_job = flow.last_export_job
            s.commit()
