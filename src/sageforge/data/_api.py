"""Data preparation over the REST API: `/datasets`, `/samples`, `/insights-reports`, `/flows`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from sageforge.api._state import Platform, platform
from sageforge.data._dataset_service import DatasetService
from sageforge.data._flow_service import FlowService
from sageforge.data._spec import (
    MAX_SAMPLE,
    CheckFlow,
    CreateDataset,
    CreateReport,
    ExportFlow,
    SampleRequest,
    SaveFlow,
)

datasets = APIRouter(prefix="/datasets", tags=["datasets"])
samples = APIRouter(prefix="/samples", tags=["datasets"])
reports = APIRouter(prefix="/insights-reports", tags=["datasets"])
flows = APIRouter(prefix="/flows", tags=["flows"])


def _datasets(p: Platform = Depends(platform)) -> DatasetService:
    return p.services["data"]["datasets"]  # type: ignore[no-any-return]


def _flows(p: Platform = Depends(platform)) -> FlowService:
    return p.services["data"]["flows"]  # type: ignore[no-any-return]


@datasets.post("", status_code=201, summary="Import a table as a dataset")
def create_dataset(body: CreateDataset, svc: DatasetService = Depends(_datasets)) -> dict[str, Any]:
    return svc.create(body)


@datasets.get("", summary="List datasets")
def list_datasets(
    svc: DatasetService = Depends(_datasets),
    name_contains: str | None = None,
    max_results: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    return svc.list(name_contains, max_results)


@datasets.get("/{name}", summary="Describe a dataset: source, schema, row count")
def describe_dataset(name: str, svc: DatasetService = Depends(_datasets)) -> dict[str, Any]:
    return svc.describe(name)


@datasets.get("/{name}/sample", summary="Rows of a dataset (first or random)")
def sample_dataset(
    name: str,
    svc: DatasetService = Depends(_datasets),
    size: int = Query(100, ge=1, le=MAX_SAMPLE),
    method: str = Query("first", pattern="^(first|random)$"),
    seed: int = 0,
) -> dict[str, Any]:
    return svc.sample(name, size, method, seed)


@datasets.delete("/{name}", status_code=204, summary="Delete a dataset (the record, not the data)")
def delete_dataset(name: str, svc: DatasetService = Depends(_datasets)) -> Response:
    svc.delete(name)
    return Response(status_code=204)


@samples.post("", summary="Rows of any source URL (for previews)")
def sample_url(body: SampleRequest, svc: DatasetService = Depends(_datasets)) -> dict[str, Any]:
    return svc.sample_url(body)


@reports.post("", status_code=201, summary="Start a Data Quality and Insights report job")
def create_report(body: CreateReport, svc: DatasetService = Depends(_datasets)) -> dict[str, Any]:
    return svc.report(body)


@flows.post("", status_code=201, summary="Save a flow (a new version if the name exists)")
def save_flow(body: SaveFlow, svc: FlowService = Depends(_flows)) -> dict[str, Any]:
    return svc.save(body)


@flows.post("/validate", summary="Check a flow document on its source's sample")
def validate_flow(body: CheckFlow, svc: FlowService = Depends(_flows)) -> dict[str, Any]:
    return svc.check(body)


@flows.post("/preview", summary="Rows after a step of a flow document, on a sample")
def preview_flow(body: CheckFlow, svc: FlowService = Depends(_flows)) -> dict[str, Any]:
    return svc.preview(body)


@flows.get("", summary="List flows")
def list_flows(
    svc: FlowService = Depends(_flows),
    name_contains: str | None = None,
    max_results: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    return svc.list(name_contains, max_results)


@flows.get("/{name}", summary="Describe a flow (a version's document; default the latest)")
def describe_flow(
    name: str, svc: FlowService = Depends(_flows), version: int | None = Query(None, ge=1)
) -> dict[str, Any]:
    return svc.describe(name, version)


@flows.delete("/{name}", status_code=204, summary="Delete a flow and its versions")
def delete_flow(name: str, svc: FlowService = Depends(_flows)) -> Response:
    svc.delete(name)
    return Response(status_code=204)


@flows.post(
    "/{name}/export", status_code=201, summary="Run the flow on all rows as a processing job"
)
def export_flow(name: str, body: ExportFlow, svc: FlowService = Depends(_flows)) -> dict[str, Any]:
    return svc.export(name, body)


routers = [datasets, samples, reports, flows]


def attach(p: Platform) -> None:
    """Create the data-preparation services for this server."""
    data = DatasetService(p.db, p.store, p.processing)
    p.services["data"] = {"datasets": data, "flows": FlowService(p.db, p.store, p.processing, data)}
