"""Flows: the list, a new flow, and the flow builder (steps, preview, save, export)."""

from __future__ import annotations

import re
from typing import Any

import anyio
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sageforge.core.errors import ResourceNotFound, SageforgeError, ValidationError
from sageforge.core.names import validate_name
from sageforge.data._models import FlowRecord
from sageforge.data._spec import CheckFlow, ExportFlow, SaveFlow
from sageforge.data.flow import OUTPUT_FORMATS, TRANSFORMS
from sageforge.studio._deps import Services, paginate, services
from sageforge.studio._forms import FORM_ERROR, Form, read_form
from sageforge.studio._templates import redirect, render
from sageforge.studio.pages import _drafts as drafts
from sageforge.studio.pages._step_forms import (
    catalogue,
    param_fields,
    parse_params,
    summary,
    title,
    values_of,
)

router = APIRouter()

PREVIEW_ROWS = 20
_STEP_AT = re.compile(r"^steps\[(\d+)\](?:\.params\.([A-Za-z_]+))?")


# -- list and create -------------------------------------------------------------------


@router.get("/flows", response_class=HTMLResponse)
def flow_list(request: Request, q: str = "", page: str = "1") -> HTMLResponse:
    svc = services(request)

    def fetch(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        rows = svc.flows.list(q or None, limit, offset)["flow_summaries"]
        count = sa.select(sa.func.count(FlowRecord.id))
        if q:
            count = count.where(FlowRecord.name.contains(q))
        with svc.db.session() as s:
            return rows, int(s.scalar(count) or 0)

    return render(request, "flows/list.html", flows=paginate(fetch, page, request=request), q=q)


def _dataset_names(svc: Services) -> list[str]:
    return [d["dataset_name"] for d in svc.datasets.list(None, 1000)["dataset_summaries"]]


@router.get("/flows/new", response_class=HTMLResponse)
def new_flow_form(request: Request, dataset: str = "") -> HTMLResponse:
    svc = services(request)
    form = Form({"dataset": dataset, "flow_name": f"{dataset}-prep" if dataset else ""})
    if dataset:
        columns = [c["name"] for c in _describe_dataset(svc, dataset)["schema"]]
        form.values["target"] = next(
            (c for c in columns if c.lower() in ("churn", "target", "label")), ""
        )
    return _new_page(request, svc, form)


def _describe_dataset(svc: Services, name: str) -> dict[str, Any]:
    try:
        return svc.datasets.describe(name)  # type: ignore[no-any-return]
    except ResourceNotFound:
        return {"schema": []}


def _new_page(request: Request, svc: Services, form: Form, status: int = 200) -> HTMLResponse:
    dataset = str(form.values.get("dataset") or "")
    columns = [c["name"] for c in _describe_dataset(svc, dataset)["schema"]] if dataset else []
    return render(
        request,
        "flows/new.html",
        status_code=status,
        form=form,
        datasets=_dataset_names(svc),
        columns=columns,
        nav="flows",
    )


@router.post("/flows/new", response_model=None)
async def create_flow(request: Request) -> Response:
    """Save version 1 of a flow over a dataset: no steps yet, a default destination."""
    svc = services(request)
    form = (await read_form(request)).require("flow_name", "dataset")
    name = str(form.values.get("flow_name") or "").strip()
    dataset = str(form.values.get("dataset") or "")
    target = str(form.values.get("target") or "") or None
    if form.ok:
        try:
            validate_name(name, "flow_name")
            if _flow_exists(svc, name):
                raise ValidationError(f"a flow named {name!r} already exists", field="flow_name")
            ds = svc.datasets.describe(dataset)
            if target and target not in [c["name"] for c in ds["schema"]]:
                raise ValidationError(f"no column {target!r} in {dataset}", field="target")
            doc = {
                "source": {"dataset": dataset},
                "target": target,
                "steps": [],
                "destinations": [
                    {
                        "url": f"store://prepared/{name}",
                        "format": "xgboost" if target else "parquet",
                    }
                ],
            }
            await anyio.to_thread.run_sync(
                lambda: svc.flows.save(SaveFlow(flow_name=name, document=doc))
            )
            return redirect(f"/flows/{name}", flash=f"Created flow {name}. Add its first step.")
        except ResourceNotFound as exc:
            form.error("dataset", exc.message)
        except SageforgeError as exc:
            form.fail(exc, {"flow_name": "flow_name", "target": "target", "source": "dataset"})
    return _new_page(request, svc, form, status=400)


def _flow_exists(svc: Services, name: str) -> bool:
    with svc.db.session() as s:
        return s.scalar(sa.select(FlowRecord.id).where(FlowRecord.name == name)) is not None


# -- the builder ---------------------------------------------------------------------------


def _unfitted(document: dict[str, Any]) -> dict[str, Any]:
    """The editable document: learned state and fit results removed, version dropped."""
    doc = {k: v for k, v in document.items() if k not in ("fitted", "version")}
    doc["steps"] = [{k: v for k, v in s.items() if k != "state"} for s in doc.get("steps", [])]
    return doc


def working_document(svc: Services, name: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(description, document being edited, whether it has unsaved changes)."""
    desc = svc.flows.describe(name)
    draft = drafts.load(svc.store, name)
    return desc, (draft if draft is not None else _unfitted(desc["document"])), draft is not None


def _check(
    svc: Services, doc: dict[str, Any]
) -> tuple[dict[str, Any] | None, SageforgeError | None]:
    try:
        return svc.flows.check(CheckFlow(document=doc)), None
    except SageforgeError as exc:
        return None, exc


def _source_columns(svc: Services, doc: dict[str, Any]) -> dict[str, str]:
    """{column: type} of the flow's source (the columns the first step can use)."""
    found, _ = _check(svc, {**doc, "steps": []})
    return dict(found["output_schema"]) if found else {}


def _columns_before(
    index: int, source: dict[str, str], schemas: list[dict[str, str]]
) -> dict[str, str]:
    if index <= 0 or not schemas:
        return source
    return schemas[min(index, len(schemas)) - 1] or source


def builder_page(
    request: Request,
    name: str,
    *,
    step: int | None = None,
    add: str | None = None,
    edit: int | None = None,
    form: Form | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The builder for flow `name`; `add`/`edit` open a step form (with `form`'s values)."""
    svc = services(request)
    desc, doc, dirty = working_document(svc, name)
    steps: list[dict[str, Any]] = doc.get("steps", [])
    found, doc_error = _check(svc, doc)
    schemas = (found or {}).get("step_schemas") or []
    bad_step = _step_of(doc_error)
    source = _source_columns(svc, doc)
    selected = len(steps) - 1 if step is None else max(-1, min(step, len(steps) - 1))
    if bad_step is not None and step is None:
        selected = bad_step
    preview, preview_error = _preview(svc, doc, selected, bad_step)
    step_form = _step_form(doc, add, edit, form, source, schemas, selected)
    return render(
        request,
        "flows/builder.html",
        status_code=status,
        flow=desc,
        doc=doc,
        steps=steps,
        labels=[_step_label(s) for s in steps],
        dirty=dirty,
        warnings=(found or {}).get("warnings") or [],
        doc_error=doc_error,
        bad_step=bad_step,
        selected=selected,
        preview=preview,
        preview_error=preview_error,
        step_form=step_form,
        catalogue=catalogue(),
        source_columns=list(source),
        formats=OUTPUT_FORMATS,
        settings=Form(
            {
                "target": doc.get("target") or "",
                "destination_url": (doc.get("destinations") or [{}])[0].get("url", ""),
                "destination_format": (doc.get("destinations") or [{}])[0].get("format", "parquet"),
            }
        ),
        export_job=_export_job(svc, desc),
    )


def _step_of(exc: SageforgeError | None) -> int | None:
    m = _STEP_AT.match(exc.field or "") if exc is not None else None
    return int(m.group(1)) if m else None


def _step_label(step: dict[str, Any]) -> str:
    """A one-line description of a step's parameters for the step list."""
    parts = []
    for k, v in (step.get("params") or {}).items():
        shown = ", ".join(map(str, v)) if isinstance(v, list) else v
        parts.append(f"{k}: {shown}")
    return "; ".join(str(p) for p in parts)[:140]


def _preview(
    svc: Services, doc: dict[str, Any], selected: int, bad_step: int | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Rows after the selected step (or the source's first rows before any step)."""
    if bad_step is not None and selected >= bad_step:
        return None, f"Fix step {bad_step + 1} to see rows after it."
    try:
        if selected < 0:
            source = (doc.get("source") or {}).get("dataset")
            if source:
                return svc.datasets.sample(source, PREVIEW_ROWS), None
            return None, None
        return svc.flows.preview(CheckFlow(document=doc, step=selected, rows=PREVIEW_ROWS)), None
    except SageforgeError as exc:
        return None, str(exc)


def _step_form(
    doc: dict[str, Any],
    add: str | None,
    edit: int | None,
    form: Form | None,
    source: dict[str, str],
    schemas: list[dict[str, str]],
    selected: int,
) -> dict[str, Any] | None:
    """What the step form shows: type, fields, values, errors, the columns to pick from."""
    steps = doc.get("steps", [])
    if edit is not None and 0 <= edit < len(steps):
        step_type, index = steps[edit]["type"], edit
        values = values_of(step_type, steps[edit].get("params") or {})
    elif add in TRANSFORMS:
        step_type, index = add, selected + 1
        values = values_of(step_type, {})
    else:
        return None
    if form is not None:
        values = {**values, **form.values}
    columns = list(_columns_before(index, source, schemas))
    return {
        "type": step_type,
        "title": title(step_type),
        "mode": "edit" if edit is not None else "add",
        "index": index,
        "fields": param_fields(step_type),
        "form": Form(values, dict(form.errors) if form else {}),
        "columns": columns,
        "runs_code": TRANSFORMS[step_type].runs_code,
        "summary": summary(TRANSFORMS[step_type]),
    }


def _export_job(svc: Services, desc: dict[str, Any]) -> dict[str, Any] | None:
    job = desc.get("last_export_job")
    if not job:
        return None
    try:
        return svc.processing.describe(job)  # type: ignore[no-any-return]
    except ResourceNotFound:
        return None


@router.get("/flows/{name}", response_class=HTMLResponse)
def builder(
    request: Request,
    name: str,
    step: int | None = None,
    add: str | None = None,
    edit: int | None = None,
) -> HTMLResponse:
    return builder_page(request, name, step=step, add=add, edit=edit)


# -- editing steps -----------------------------------------------------------------------


def _candidate(doc: dict[str, Any], form: Form) -> tuple[dict[str, Any], int, dict[str, str]]:
    """(document with the posted step in place, its index, the form's own errors)."""
    step_type = str(form.values.get("_type") or "")
    if step_type not in TRANSFORMS:
        raise ValidationError(f"unknown step type {step_type!r}", field="type")
    params, errors = parse_params(step_type, form.values)
    steps = list(doc.get("steps", []))
    mode = str(form.values.get("_mode") or "add")
    try:
        index = int(str(form.values.get("_index") or len(steps)))
    except ValueError:
        index = len(steps)
    new = {"type": step_type, "params": params}
    if mode == "edit" and 0 <= index < len(steps):
        steps[index] = new
    else:
        index = max(0, min(index, len(steps)))
        steps.insert(index, new)
    return {**doc, "steps": steps}, index, errors


def _place_error(exc: SageforgeError, index: int, form: Form) -> None:
    """Put a check's error on the step form's input, or above the form."""
    m = _STEP_AT.match(exc.field or "")
    params = {f.name for f in param_fields(str(form.values.get("_type")))}
    if m and int(m.group(1)) == index and m.group(2) in params:
        form.error(
            m.group(2), exc.message.split(": ", 1)[-1].removeprefix(f"parameter {m.group(2)!r} ")
        )
    else:
        form.error(FORM_ERROR, str(exc.message))


def validate_step(svc: Services, doc: dict[str, Any], form: Form) -> tuple[dict[str, Any], int]:
    """Check the posted step in its place on the source's sample; errors land in `form`."""
    try:
        candidate, index, errors = _candidate(doc, form)
    except ValidationError as exc:
        form.error(FORM_ERROR, str(exc))
        return doc, -1
    for k, v in errors.items():
        form.error(k, v)
    if form.ok:
        _, problem = _check(svc, candidate)
        if problem is not None:
            _place_error(problem, index, form)
    return candidate, index


@router.post("/flows/{name}/steps/check")
async def check_step(request: Request, name: str) -> JSONResponse:
    """Validate-as-you-type: the step form's errors by input name (nothing is saved)."""
    svc = services(request)
    form = await read_form(request)
    _, doc, _ = await anyio.to_thread.run_sync(working_document, svc, name)
    await anyio.to_thread.run_sync(validate_step, svc, doc, form)
    return JSONResponse({"ok": form.ok, "errors": form.errors})


@router.post("/flows/{name}/steps", response_model=None)
async def put_step(request: Request, name: str) -> Response:
    """Add a step (after the selected one) or replace the one being edited."""
    svc = services(request)
    form = await read_form(request)
    _, doc, _ = working_document(svc, name)
    candidate, index = await anyio.to_thread.run_sync(validate_step, svc, doc, form)
    if not form.ok:
        mode = form.values.get("_mode")
        return builder_page(
            request,
            name,
            step=index - 1 if mode != "edit" else index,
            add=None if mode == "edit" else str(form.values.get("_type")),
            edit=index if mode == "edit" else None,
            form=form,
            status=400,
        )
    drafts.save(svc.store, name, candidate)
    return redirect(f"/flows/{name}?step={index}#preview")


def _edit_steps(request: Request, name: str, change: Any) -> Response:
    svc = services(request)
    _, doc, _ = working_document(svc, name)
    steps = list(doc.get("steps", []))
    selected = change(steps)
    drafts.save(svc.store, name, {**doc, "steps": steps})
    return redirect(f"/flows/{name}?step={selected}#steps")


@router.post("/flows/{name}/steps/{index}/move", response_model=None)
async def move_step(request: Request, name: str, index: int) -> Response:
    direction = str((await read_form(request)).values.get("direction") or "up")

    def change(steps: list[dict[str, Any]]) -> int:
        to = index - 1 if direction == "up" else index + 1
        if 0 <= index < len(steps) and 0 <= to < len(steps):
            steps[index], steps[to] = steps[to], steps[index]
            return to
        return index

    return _edit_steps(request, name, change)


@router.post("/flows/{name}/steps/{index}/delete", response_model=None)
def delete_step(request: Request, name: str, index: int) -> Response:
    def change(steps: list[dict[str, Any]]) -> int:
        if 0 <= index < len(steps):
            del steps[index]
        return min(index, len(steps) - 1)

    return _edit_steps(request, name, change)


@router.post("/flows/{name}/settings", response_model=None)
async def flow_settings(request: Request, name: str) -> Response:
    """Target and destination of the export."""
    svc = services(request)
    form = await read_form(request)
    _, doc, _ = working_document(svc, name)
    url = str(form.values.get("destination_url") or "").strip()
    fmt = str(form.values.get("destination_format") or "parquet")
    doc = {
        **doc,
        "target": str(form.values.get("target") or "") or None,
        "destinations": [{"url": url, "format": fmt}] if url else [],
    }
    drafts.save(svc.store, name, doc)
    return redirect(f"/flows/{name}#settings", flash="Settings changed (not saved yet).")


# -- save, discard, export, delete -------------------------------------------------------------


def _save(svc: Services, name: str) -> dict[str, Any] | None:
    """Save the draft as the next version (None when there was nothing to save)."""
    draft = drafts.load(svc.store, name)
    if draft is None:
        return None
    saved = svc.flows.save(SaveFlow(flow_name=name, document=draft))
    drafts.discard(svc.store, name)
    return saved  # type: ignore[no-any-return]


@router.post("/flows/{name}/save", response_model=None)
async def save_flow(request: Request, name: str) -> Response:
    svc = services(request)
    try:
        saved = await anyio.to_thread.run_sync(_save, svc, name)
    except ResourceNotFound:
        raise
    except SageforgeError as exc:
        return redirect(f"/flows/{name}", error=f"Not saved: {exc}")
    if saved is None:
        return redirect(
            f"/flows/{name}", flash="Nothing to save: no changes since the last version."
        )
    return redirect(f"/flows/{name}", flash=f"Saved version {saved['version']}.")


@router.post("/flows/{name}/discard", response_model=None)
def discard_draft(request: Request, name: str) -> Response:
    svc = services(request)
    svc.flows.describe(name)
    drafts.discard(svc.store, name)
    return redirect(f"/flows/{name}", flash="Unsaved changes discarded.")


@router.post("/flows/{name}/export", response_model=None)
async def export_flow(request: Request, name: str) -> Response:
    """Save any changes, then run the flow over every row as a processing job."""
    svc = services(request)

    def run() -> dict[str, Any]:
        _save(svc, name)
        return svc.flows.export(name, ExportFlow())  # type: ignore[no-any-return]

    try:
        started = await anyio.to_thread.run_sync(run)
    except ResourceNotFound:
        raise
    except SageforgeError as exc:
        return redirect(f"/flows/{name}#settings", error=f"Not exported: {exc}")
    job = started["processing_job_name"]
    return redirect(f"/jobs/processing/{job}", flash=f"Exporting flow {name}: job {job} started.")


@router.post("/flows/{name}/delete", response_model=None)
def delete_flow(request: Request, name: str) -> Response:
    svc = services(request)
    svc.flows.delete(name)
    drafts.discard(svc.store, name)
    return redirect("/flows", flash=f"Deleted flow {name}.")
