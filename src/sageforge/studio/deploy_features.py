"""What a model takes as input, found from where it came from — so a form can ask for it.

A person testing an endpoint should type a customer's tenure and contract, not a
row of 16 anonymous numbers. The model does not say what its columns were, but
its history does:

- a pipeline model starts with a fitted data-prep flow, whose `input_schema`
  names the raw columns and their types (the form asks for those, as records);
- a plain built-in model points at its training job's artifact; that job read
  channels exported by a flow, which left its fitted `flow.json` beside the
  split folders: its `output_schema` names the model's columns in order (the
  form asks for those, as one CSV row), and the same flow can be put in front
  of the model to take raw records instead (`flow_url`);
- a CSV channel without a flow still gives the column count and a sample row;
- otherwise a built-in XGBoost artifact knows how many features it has.

If all of that fails the form falls back to a raw request body.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import posixpath
import tarfile
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sageforge.core.errors import ResourceNotFound, SageforgeError

Payload = Literal["records", "csv", "raw"]
Kind = Literal["number", "integer", "boolean", "text"]

MAX_CHOICES = 30
_INTEGER_TYPES = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}
_NUMBER_TYPES = {"Float32", "Float64", "Decimal"}


@dataclass(frozen=True)
class Feature:
    """One input of the model: its column name, what values it takes, and an example."""

    name: str
    kind: Kind
    dtype: str
    example: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelInputs:
    """The model's inputs and how a request carries them (see the module docstring)."""

    features: tuple[Feature, ...]
    payload: Payload
    origin: str
    """In words, where the feature names came from (shown under the form)."""
    target: str | None = None
    training_job: str | None = None
    flow_url: str | None = None
    """The fitted flow beside the training data (for deploying it as a pipeline)."""
    objective: str | None = None
    """The training job's `objective` hyperparameter, when there is one."""
    hidden: tuple[str, ...] = field(default=())
    """Raw columns the flow drops before using them (left out of the form)."""


def kind_of(dtype: str) -> Kind:
    """The form's kind of input for a flow type name (`Int64`, `Float64`, `String` …)."""
    if dtype in _INTEGER_TYPES:
        return "integer"
    if dtype in _NUMBER_TYPES or dtype == "number":
        return "number"
    if dtype == "Boolean":
        return "boolean"
    return "text"


# -- reading from the store ----------------------------------------------------------------------


def _read(store: Any, url: str, limit: int | None = None) -> bytes | None:
    """The object at `url` (its first `limit` bytes), or None when it is not there."""
    try:
        fs, path = store.resolve(url)
        if not fs.isfile(path):
            return None
        with fs.open(path, "rb") as f:
            return bytes(f.read(limit) if limit else f.read())
    except (OSError, SageforgeError, ValueError):
        return None


def _first_file(store: Any, url: str) -> str | None:
    """The first data file under a channel URL (itself if it is a file)."""
    try:
        fs, path = store.resolve(url)
        if fs.isfile(path):
            return url
        files = sorted(
            p
            for p in fs.find(path)
            if not posixpath.basename(p).startswith((".", "_")) and not p.endswith(".json")
        )
    except (OSError, SageforgeError, ValueError):
        return None
    if not files:
        return None
    return url.rstrip("/") + "/" + posixpath.relpath(files[0], path)


def _flow_beside(store: Any, channel_url: str) -> tuple[str, dict[str, Any]] | None:
    """The fitted flow.json an export wrote beside (or in) a split folder."""
    base = channel_url.rstrip("/")
    for candidate in (posixpath.dirname(base) + "/flow.json", base + "/flow.json"):
        raw = _read(store, candidate)
        if raw is None:
            continue
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if isinstance(doc, dict) and (doc.get("fitted") or {}).get("output_schema"):
            return candidate, doc
    return None


# -- flows ---------------------------------------------------------------------------------------


def _choices(doc: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Categories the flow's fitted encoders learned, per column."""
    out: dict[str, tuple[str, ...]] = {}
    for step in doc.get("steps") or []:
        state = step.get("state") or {}
        columns = state.get("columns") if isinstance(state, dict) else None
        if not isinstance(columns, dict):
            continue
        for col, info in columns.items():
            cats = info.get("categories") if isinstance(info, dict) else None
            if isinstance(cats, list) and cats and col not in out:
                out[col] = tuple(str(c) for c in cats[:MAX_CHOICES])
    return out


def _referenced(params: Any) -> set[str]:
    """Every string a step's parameters mention (column names among them)."""
    if isinstance(params, str):
        return {params}
    if isinstance(params, Mapping):
        return set(map(str, params)) | {s for v in params.values() for s in _referenced(v)}
    if isinstance(params, (list, tuple)):
        return {s for v in params for s in _referenced(v)}
    return set()


def unused_columns(doc: Mapping[str, Any]) -> list[str]:
    """Raw columns a flow drops before any step reads them: a form need not ask for them."""
    seen: set[str] = set()
    unused: list[str] = []
    for step in doc.get("steps") or []:
        params = step.get("params") or {}
        if step.get("type") == "drop_columns":
            unused += [c for c in params.get("columns") or [] if c not in seen]
        seen |= _referenced(params)
    return unused


def flow_record_inputs(
    doc: Mapping[str, Any], examples: Mapping[str, Any], origin: str
) -> ModelInputs:
    """A pipeline's inputs: the raw columns the fitted flow reads (target and dropped ones out)."""
    fitted = doc.get("fitted") or {}
    schema: dict[str, str] = dict(fitted.get("input_schema") or {})
    target = doc.get("target")
    hidden = [c for c in unused_columns(doc) if c in schema]
    choices = _choices(doc)
    features = tuple(
        Feature(
            name,
            kind_of(dtype),
            dtype,
            examples.get(name),
            choices.get(name, ()),
        )
        for name, dtype in schema.items()
        if name != target and name not in hidden
    )
    return ModelInputs(features, "records", origin, target=target, hidden=tuple(hidden))


def flow_output_inputs(
    doc: Mapping[str, Any], example_row: list[str] | None, origin: str, flow_url: str
) -> ModelInputs:
    """A plain model's inputs: the exported columns after the target, in training order."""
    target = doc.get("target")
    schema: dict[str, str] = dict((doc.get("fitted") or {}).get("output_schema") or {})
    names = [n for n in schema if n != target]
    row = example_row if example_row is not None and len(example_row) == len(names) else None
    features = tuple(
        Feature(n, "integer" if kind_of(schema[n]) == "integer" else "number", schema[n],
                row[i] if row else None)
        for i, n in enumerate(names)
    )  # fmt: skip
    return ModelInputs(features, "csv", origin, target=target, flow_url=flow_url)


# -- finding a model's history -----------------------------------------------------------------


def _training_job_of(services: Any, model_data_url: str) -> dict[str, Any] | None:
    """The training job whose artifact this is (its name is in the artifact's path)."""
    parts = model_data_url.rstrip("/").split("/")
    candidates = [parts[i - 1] for i, p in enumerate(parts) if p == "output" and i > 0]
    for name in reversed(candidates):
        try:
            job = services.training.describe(name)
        except (ResourceNotFound, SageforgeError):
            continue
        if (job.get("model_artifacts") or {}).get("s3_model_artifacts") == model_data_url:
            return job  # type: ignore[no-any-return]
    return None


def _train_channel(job: Mapping[str, Any]) -> dict[str, Any] | None:
    channels = job.get("input_data_config") or []
    named = {c.get("channel_name"): c for c in channels}
    return named.get("train") or (channels[0] if channels else None)


def _channel_url(channel: Mapping[str, Any]) -> str:
    return str(channel["data_source"]["s3_data_source"]["s3_uri"])


def _csv_first_line(store: Any, url: str) -> list[str] | None:
    raw = _read(store, url, limit=64 * 1024)
    if raw is None:
        return None
    line = raw.decode("utf-8", errors="replace").splitlines()[:1]
    return next(csv.reader(line), None) if line else None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def training_job_inputs(services: Any, job: Mapping[str, Any]) -> ModelInputs | None:
    """A model trained by `job`: its inputs from the flow or the CSV it was trained on."""
    channel = _train_channel(job)
    if channel is None:
        return None
    store = services.store
    url = _channel_url(channel)
    first = _first_file(store, url)
    line = _csv_first_line(store, first) if first else None
    objective = (job.get("hyper_parameters") or {}).get("objective")
    name = job["training_job_name"]
    found = _flow_beside(store, url)
    if found is not None:
        flow_url, doc = found
        example = line[1:] if line and all(_is_number(v) for v in line) else None
        flow_name = doc.get("name") or "a data-prep flow"
        inputs = flow_output_inputs(
            doc, example, f"the columns flow {flow_name!r} exported for training job {name}",
            flow_url,
        )  # fmt: skip
        return _with(inputs, training_job=name, objective=objective)
    content_type = (channel.get("content_type") or "text/csv").split(";")[0].strip()
    if line is None or content_type not in ("text/csv", "csv"):
        return None
    target = (job.get("hyper_parameters") or {}).get("target")
    if all(_is_number(v) for v in line):  # SageMaker's layout: the label first, no header
        values = line[1:]
        names = [f"f{i}" for i in range(len(values))]
        origin = f"the columns of training job {name}'s CSV (label first, no header)"
        feats = tuple(Feature(n, "number", "number", v) for n, v in zip(names, values, strict=True))
        return ModelInputs(feats, "csv", origin, training_job=name, objective=objective)
    header = [h for h in line if h != (target or line[0])]
    feats = tuple(Feature(h, "number", "number") for h in header)
    origin = f"the header of training job {name}'s CSV"
    return ModelInputs(feats, "csv", origin, target=target or line[0], training_job=name,
                       objective=objective)  # fmt: skip


def _with(inputs: ModelInputs, **changes: Any) -> ModelInputs:
    from dataclasses import replace

    return replace(inputs, **changes)


def _xgboost_width(store: Any, url: str) -> int | None:
    """How many features a built-in XGBoost artifact was trained on."""
    raw = _read(store, url)
    if raw is None:
        return None
    try:
        import xgboost

        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                member = next((m for m in tar.getmembers() if m.name.endswith("xgboost-model")), None)  # fmt: skip
                if member is None:
                    return None
                tar.extract(member, tmp, filter="data")
            booster = xgboost.Booster(model_file=str(Path(tmp) / member.name))
            return int(booster.num_features())
    except Exception:  # not an XGBoost artifact after all: the raw form still works
        return None


def _dataset_examples(services: Any, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The first row of the flow's source dataset, as example values for the form."""
    source = doc.get("source") or {}
    if not source.get("dataset"):
        return {}
    try:
        rows = services.datasets.sample(source["dataset"], 1)["rows"]
    except (SageforgeError, OSError, ValueError, KeyError):
        return {}
    return dict(rows[0]) if rows else {}


_cache: dict[tuple[str, str], ModelInputs] = {}
_cache_lock = threading.Lock()


def model_inputs(services: Any, model: Mapping[str, Any]) -> ModelInputs:
    """The inputs of a model as DescribeModel shows it (cached: models never change)."""
    key = (str(model["model_name"]), str(model.get("creation_time")))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    found = _discover(services, model)
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = found
    return found


def _discover(services: Any, model: Mapping[str, Any]) -> ModelInputs:
    chain = [model["primary_container"]] if model.get("primary_container") else list(model.get("containers") or [])  # fmt: skip
    if not chain:
        return ModelInputs((), "raw", "the model has no containers")
    store = services.store
    final = chain[-1]
    job = _training_job_of(services, final["model_data_url"]) if final.get("model_data_url") else None  # fmt: skip
    objective = (job.get("hyper_parameters") or {}).get("objective") if job else None
    trained = job["training_job_name"] if job else None
    if chain[0].get("flow_url"):
        raw = _read(store, chain[0]["flow_url"])
        with contextlib.suppress(ValueError, TypeError):
            doc = json.loads(raw) if raw else None
            if isinstance(doc, dict) and (doc.get("fitted") or {}).get("input_schema"):
                flow_name = doc.get("name") or "the data-prep flow"
                inputs = flow_record_inputs(
                    doc, _dataset_examples(services, doc),
                    f"the raw columns that flow {flow_name!r} reads",
                )  # fmt: skip
                return _with(inputs, training_job=trained, objective=objective)
        return ModelInputs((), "raw", "the pipeline's flow could not be read")
    if job is not None:
        trained_on = training_job_inputs(services, job)
        if trained_on is not None:
            return trained_on
    if final.get("algorithm_name") == "xgboost" and final.get("model_data_url"):
        width = _xgboost_width(store, final["model_data_url"])
        if width:
            feats = tuple(Feature(f"f{i}", "number", "number") for i in range(width))
            origin = f"the model itself ({width} numeric features; their names are not recorded)"
            return ModelInputs(feats, "csv", origin, training_job=trained, objective=objective)
    return ModelInputs((), "raw", "nothing records this model's inputs", training_job=trained)


# -- turning a filled-in form into a request ---------------------------------------------------

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def field_name(index: int) -> str:
    """The form field of the index-th feature (column names may hold any character)."""
    return f"feature{index}"


def parse_form(
    inputs: ModelInputs, form: Mapping[str, str]
) -> tuple[bytes | None, str, dict[str, str], dict[str, str]]:
    """(body, content type, errors by field, values to show again) from a submitted form."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if inputs.payload == "raw":
        body = str(form.get("body") or "")
        content_type = str(form.get("content_type") or "text/csv")
        values.update(body=body, content_type=content_type)
        if not body.strip():
            errors["body"] = "Type the request body to send."
        return (None if errors else body.encode()), content_type, errors, values
    record: dict[str, Any] = {}
    for i, feat in enumerate(inputs.features):
        key = field_name(i)
        text = str(form.get(key) or "").strip()
        values[key] = text
        try:
            record[feat.name] = _value(feat, text)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        return None, "", errors, values
    if inputs.payload == "records":
        return json.dumps({"instances": [record]}).encode(), "application/json", errors, values
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if v is None else v for v in record.values()])
    return out.getvalue().encode(), "text/csv", errors, values


def _value(feat: Feature, text: str) -> Any:
    """A typed value, None for blank (a missing value), or ValueError saying what to type."""
    if text == "":
        return None
    if feat.kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{feat.name} must be a number, like 42 or 3.5") from None
        if not math.isfinite(number):
            raise ValueError(f"{feat.name} must be a finite number")
        return number
    if feat.kind == "integer":
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{feat.name} must be a whole number, like 12") from None
        if not number.is_integer():
            raise ValueError(f"{feat.name} must be a whole number, like 12")
        return int(number)
    if feat.kind == "boolean":
        low = text.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError(f"{feat.name} must be true or false")
    return text


def example_values(inputs: ModelInputs) -> dict[str, str]:
    """The form's initial values: the example record found with the inputs."""
    out: dict[str, str] = {}
    for i, feat in enumerate(inputs.features):
        v = feat.example
        if v is None:
            out[field_name(i)] = ""
        elif isinstance(v, bool):
            out[field_name(i)] = "true" if v else "false"
        else:
            out[field_name(i)] = str(v).strip()
    return out
