"""Data: the dataset list, upload and import, a dataset's page and its insights report."""

from __future__ import annotations

import re
from typing import Any

import anyio
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from sageforge.core.errors import ResourceNotFound, SageforgeError, ValidationError
from sageforge.core.names import validate_name
from sageforge.core.store import check_key
from sageforge.data._models import DatasetRecord
from sageforge.data._spec import CreateDataset, CreateReport
from sageforge.datasets import sample_path
from sageforge.studio._deps import Services, paginate, services
from sageforge.studio._forms import FORM_ERROR, Form, read_form, wants_json
from sageforge.studio._mount import not_found_page
from sageforge.studio._templates import redirect, render
from sageforge.studio.pages._reports import latest_report_job, report_summary, report_url

router = APIRouter()

PREVIEW_ROWS = 50
UPLOAD_PREFIX = "uploads"
SAMPLES = {
    "untidy_churn": ("untidy-churn", "The raw CRM export of 5,000 telecom customers (untidy)."),
    "churn": ("churn", "5,000 telecom customers and whether each churned (clean)."),
}
_TARGET_GUESSES = ("churn", "target", "label", "class", "y", "outcome")
_SAFE_FILE = re.compile(r"[^A-Za-z0-9._-]+")
_UPLOAD_FIELDS = {"dataset_name": "dataset_name", "source_url": "file", "read_options": "file"}
_IMPORT_FIELDS = {"dataset_name": "dataset_name", "source_url": "source_url"}


# -- list ------------------------------------------------------------------------------


@router.get("/data", response_class=HTMLResponse)
def data_list(request: Request, q: str = "", page: str = "1") -> HTMLResponse:
    svc = services(request)

    def fetch(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        rows = svc.datasets.list(q or None, limit, offset)["dataset_summaries"]
        count = sa.select(sa.func.count(DatasetRecord.id))
        if q:
            count = count.where(DatasetRecord.name.contains(q))
        with svc.db.session() as s:
            return rows, int(s.scalar(count) or 0)

    return render(request, "data/list.html", datasets=paginate(fetch, page, request=request), q=q)


# -- upload and import -------------------------------------------------------------------


@router.get("/data/upload", response_class=HTMLResponse)
def upload_form(request: Request) -> HTMLResponse:
    return _upload_page(request, Form(), Form())


def _upload_page(request: Request, upload: Form, imp: Form, status: int = 200) -> HTMLResponse:
    return render(
        request,
        "data/upload.html",
        status_code=status,
        upload=upload,
        imp=imp,
        samples=SAMPLES,
        nav="data",
    )


def _safe_filename(name: str) -> str:
    base = _SAFE_FILE.sub("-", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(".-")
    return base or "data.csv"


def _check_new_name(svc: Services, name: str) -> None:
    validate_name(name, "dataset_name")
    try:
        svc.datasets.describe(name)
    except ResourceNotFound:
        return
    raise ValidationError(f"a dataset named {name!r} already exists", field="dataset_name")


@router.post("/data/upload", response_model=None)
async def upload(request: Request) -> Response:
    """Stream a file into the store and register it as a dataset.

    The page's script sends the file as the raw body (`?dataset_name=&filename=`)
    so it can show upload progress and nothing is parsed or buffered in memory;
    without scripts the form posts multipart and the file is spooled to disk.
    """
    svc = services(request)
    raw = not request.headers.get("content-type", "").startswith("multipart/form-data")
    form = Form(dict(request.query_params)) if raw else await read_form(request)
    upload_file: UploadFile | None = None
    if not raw:
        posted = await request.form()
        candidate = posted.get("file")
        upload_file = candidate if isinstance(candidate, UploadFile) else None
        form.values.pop("file", None)
        form.values["filename"] = upload_file.filename if upload_file else ""
    name = str(form.values.get("dataset_name") or "").strip()
    form.values["dataset_name"] = name
    filename = _safe_filename(str(form.values.get("filename") or ""))
    key = ""
    try:
        _check_new_name(svc, name)
        if not raw and (upload_file is None or not upload_file.filename):
            raise ValidationError("choose a file to upload", field="source_url")
        key = check_key(f"{UPLOAD_PREFIX}/{name}/{filename}")
        size = await _store_stream(svc, key, request, upload_file)
        if size == 0:
            raise ValidationError("the file is empty", field="source_url")
        await anyio.to_thread.run_sync(
            lambda: svc.datasets.create(
                CreateDataset(dataset_name=name, source_url=f"store://{key}")
            )
        )
    except SageforgeError as exc:
        if key and exc.field != "dataset_name":
            await anyio.to_thread.run_sync(_forget, svc, key)
        form.fail(exc, _UPLOAD_FIELDS)
        if raw or wants_json(request):
            return JSONResponse({"errors": form.errors}, status_code=exc.http_status)
        return _upload_page(request, form, Form(), status=exc.http_status)
    target = f"/data/{name}"
    if raw or wants_json(request):
        return JSONResponse({"redirect": target}, status_code=201)
    return redirect(target, flash=f"Uploaded {filename} as dataset {name}.")


async def _store_stream(
    svc: Services, key: str, request: Request, upload_file: UploadFile | None
) -> int:
    """Write the body (or the spooled upload) under `key`, atomically; returns its size."""
    cm = svc.store.open_write(key)
    fh = await anyio.to_thread.run_sync(cm.__enter__)
    size = 0
    try:
        if upload_file is not None:
            while chunk := await upload_file.read(1 << 20):
                size += len(chunk)
                await anyio.to_thread.run_sync(fh.write, chunk)
        else:
            async for chunk in request.stream():
                size += len(chunk)
                await anyio.to_thread.run_sync(fh.write, chunk)
    except BaseException as exc:
        await anyio.to_thread.run_sync(cm.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await anyio.to_thread.run_sync(cm.__exit__, None, None, None)
    return size


def _forget(svc: Services, key: str) -> None:
    """Remove an upload that did not become a dataset (best effort)."""
    try:
        if svc.store.exists(key):
            svc.store.delete(key)
    except Exception:  # a leftover upload is harmless; the error the user sees matters more
        pass


@router.post("/data/import", response_model=None)
async def import_url(request: Request) -> Response:
    """Register a dataset from a store URL, fsspec URL or server path."""
    svc = services(request)
    form = await read_form(request)
    form.require("dataset_name", "source_url")
    if form.ok:
        try:
            name = str(form.values["dataset_name"]).strip()
            _check_new_name(svc, name)
            await anyio.to_thread.run_sync(
                lambda: svc.datasets.create(
                    CreateDataset(
                        dataset_name=name,
                        source_url=str(form.values["source_url"]).strip(),
                        description=str(form.values.get("description") or ""),
                    )
                )
            )
            return redirect(f"/data/{name}", flash=f"Imported dataset {name}.")
        except SageforgeError as exc:
            form.fail(exc, _IMPORT_FIELDS)
        except Exception as exc:  # pydantic's own checks of the request
            form.error(FORM_ERROR, str(exc).splitlines()[0])
    return _upload_page(request, Form(), form, status=400)


@router.post("/data/samples", response_model=None)
async def load_sample(request: Request) -> Response:
    """Copy a bundled sample table into the store and register it (the first-run path)."""
    svc = services(request)
    form = await read_form(request)
    sample = str(form.values.get("sample") or "untidy_churn")
    if sample not in SAMPLES:
        return redirect("/data/upload", error=f"There is no sample called {sample!r}.")
    name = SAMPLES[sample][0]
    try:
        svc.datasets.describe(name)
        return redirect(f"/data/{name}", flash=f"The sample dataset {name} is already loaded.")
    except ResourceNotFound:
        pass

    def load() -> None:
        path = sample_path(sample)
        url = svc.store.put_file(f"samples/{path.name}", path)
        svc.datasets.create(
            CreateDataset(dataset_name=name, source_url=url, description=SAMPLES[sample][1])
        )

    await anyio.to_thread.run_sync(load)
    return redirect(f"/data/{name}", flash=f"Loaded the sample dataset {name}.")


# -- one dataset -------------------------------------------------------------------------


def _guess_target(columns: list[str]) -> str:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[g] for g in _TARGET_GUESSES if g in lowered), "")


def dataset_page(
    request: Request, name: str, report_form: Form | None = None, status: int = 200
) -> HTMLResponse:
    """The dataset's page (also re-rendered with the report form's errors)."""
    svc = services(request)
    ds = svc.datasets.describe(name)
    preview: dict[str, Any] | None
    preview_error = None
    try:
        preview = svc.datasets.sample(name, PREVIEW_ROWS)
    except SageforgeError as exc:  # the data moved or broke since import: say so, keep the page
        preview, preview_error = None, str(exc)
    columns = [c["name"] for c in ds["schema"]]
    job = latest_report_job(svc.db, name)
    report = None
    if job is not None and job.status == "Completed":
        try:
            report = report_summary(svc.store, job)
        except (OSError, ValueError):
            report = None
    form = report_form or Form({"target": _guess_target(columns)})
    return render(
        request,
        "data/dataset.html",
        status_code=status,
        ds=ds,
        preview=preview,
        preview_error=preview_error,
        columns=columns,
        report_job=job,
        report=report,
        report_form=form,
    )


@router.get("/data/{name}", response_class=HTMLResponse)
def dataset(request: Request, name: str) -> HTMLResponse:
    return dataset_page(request, name)


@router.post("/data/{name}/report", response_model=None)
async def start_report(request: Request, name: str) -> Response:
    """Start the Data Quality and Insights report job on the dataset."""
    svc = services(request)
    form = await read_form(request)
    target = str(form.values.get("target") or "") or None
    try:
        await anyio.to_thread.run_sync(
            lambda: svc.datasets.report(CreateReport(dataset_name=name, target=target))
        )
    except ResourceNotFound:
        raise
    except SageforgeError as exc:
        form.fail(exc, {"target": "target"})
        return dataset_page(request, name, form, status=exc.http_status)
    return redirect(f"/data/{name}#report", flash="The insights report job started.")


@router.get("/data/{name}/report", response_model=None)
def report_html(request: Request, name: str) -> Response:
    """The report itself: one self-contained HTML file (plotly.js inline, works offline)."""
    svc = services(request)
    svc.datasets.describe(name)  # 404 page for an unknown dataset
    job = latest_report_job(svc.db, name)
    url = report_url(job) if job is not None and job.status == "Completed" else None
    key = svc.store.key_of(url) if url else None
    if key is None or not svc.store.exists(key):
        return not_found_page(request, f"Dataset {name} has no finished insights report yet.")
    return Response(svc.store.get_bytes(key), media_type="text/html; charset=utf-8")


@router.post("/data/{name}/delete", response_model=None)
def delete_dataset(request: Request, name: str) -> Response:
    svc = services(request)
    try:
        svc.datasets.delete(name)
    except ResourceNotFound:
        raise
    except SageforgeError as exc:
        return redirect(f"/data/{name}", error=f"Not deleted: {exc.message}")
    return redirect("/data", flash=f"Deleted dataset {name} (its data stays in the store).")
