"""What answers an invocation: a built-in's handler, the user's inference.py, or a pipeline.

Endpoint workers and batch-transform jobs build their handler here, from a
model's containers, so a record gets the same answer in both. The handler
runs in the worker or job process, never in the server.

Errors are sorted the way the caller must answer: a `ValidationError` is the
client's fault (4xx, the endpoint keeps serving); `ModelError` wraps an
exception raised inside the model's code (5xx, with the traceback the model
logged); anything else is a bug of ours.
"""

from __future__ import annotations

import io
import json
import tarfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sageforge.core.errors import ValidationError
from sageforge.core.store import ArtifactStore


class ModelError(Exception):
    """The model's own code raised: the answer is a 5xx carrying its log."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.message = message
        self.log = log


@dataclass
class InvocationContext:
    """Request details a user's handler may read (and custom attributes it may answer with)."""

    custom_attributes: str | None = None
    inference_id: str | None = None
    target_variant: str | None = None
    variant: str | None = None
    response_custom_attributes: str | None = None


class Handler:
    """Answers invocations: `invoke(body, content_type, accept) -> (body, content_type)`."""

    blocking = False
    """True when the handler may block for long (user code): the worker runs it in a thread."""

    def invoke(
        self, body: bytes, content_type: str, accept: str, ctx: InvocationContext | None = None
    ) -> tuple[bytes, str]:
        raise NotImplementedError

    def features_predictor(self) -> Callable[[Any], Any] | None:
        """A vectorised `X -> scores` for batch transform, when the model allows one."""
        return None


class BuiltinHandler(Handler):
    """A built-in algorithm's inference handler over its loaded model."""

    def __init__(self, algorithm: str, model_dir: Path) -> None:
        from sageforge.train.algorithms import get_algorithm

        self.algorithm = get_algorithm(algorithm)
        self.model = self.algorithm.load_model(model_dir)

    def invoke(
        self, body: bytes, content_type: str, accept: str, ctx: InvocationContext | None = None
    ) -> tuple[bytes, str]:
        try:
            return self.algorithm.predict(self.model, body, content_type, accept)
        except ValidationError:
            raise
        except Exception as exc:
            raise ModelError(
                f"{self.algorithm.name} failed: {type(exc).__name__}: {exc}",
                traceback.format_exc(),
            ) from exc

    def features_predictor(self) -> Callable[[Any], Any] | None:
        # Only where the scores are exactly the endpoint's CSV answer (an XGBoost Booster's
        # are): other built-ins answer more than a score per row (linear-learner's CSV is
        # `predicted_label,score`, k-means' is cluster and distance), so batch transform
        # must go through `invoke` for them to match the endpoint.
        model = self.model
        if hasattr(model, "inplace_predict"):
            return lambda X: model.inplace_predict(X, validate_features=False)
        return None


class PipelineHandler(Handler):
    """An inference pipeline: each container's answer is the next one's request."""

    def __init__(self, stages: Sequence[Handler]) -> None:
        self.stages = list(stages)
        self.blocking = any(s.blocking for s in self.stages)

    def invoke(
        self, body: bytes, content_type: str, accept: str, ctx: InvocationContext | None = None
    ) -> tuple[bytes, str]:
        for stage in self.stages[:-1]:
            body, content_type = stage.invoke(body, content_type, "text/csv", ctx)
        return self.stages[-1].invoke(body, content_type, accept, ctx)


class FlowHandler(Handler):
    """A fitted data-prep flow before the model: raw records in, model features out (CSV).

    Takes JSON (`{"instances": [{column: value}]}`, a list of objects, or one
    object), JSON Lines of objects, or CSV with a header row naming the columns;
    answers CSV rows of the flow's output columns (the target left out), in the
    order the model was trained on.
    """

    def __init__(self, flow_json: bytes) -> None:
        try:
            from sageforge.data.flow import FlowDocument, RecordPipeline
        except ImportError as exc:  # pragma: no cover - the flow engine ships with sageforge
            raise RuntimeError("this model's pipeline needs sageforge.data.flow") from exc
        doc = FlowDocument.from_json(flow_json)
        self.pipeline = RecordPipeline(doc)
        self.target = doc.target

    def invoke(
        self, body: bytes, content_type: str, accept: str, ctx: InvocationContext | None = None
    ) -> tuple[bytes, str]:
        records = _records(body, content_type)
        if not records:
            raise ValidationError("the payload has no records")
        try:
            frame = self.pipeline.frame(records)
        except ValidationError:
            raise
        except Exception as exc:
            raise ValidationError(f"the data-prep flow rejected the records: {exc}") from None
        if self.target and self.target in frame.columns:
            frame = frame.drop(self.target)
        return frame.write_csv(include_header=False).encode(), "text/csv"


def _records(body: bytes, content_type: str) -> list[Mapping[str, Any]]:
    base = content_type.split(";", 1)[0].strip().lower()
    text = body.decode("utf-8-sig", errors="replace")
    try:
        if base == "application/json":
            doc = json.loads(text)
            recs = doc.get("instances", [doc]) if isinstance(doc, dict) else doc
        elif base in ("application/jsonlines", "application/x-jsonlines"):
            recs = [json.loads(line) for line in text.splitlines() if line.strip()]
        elif base == "text/csv":
            import csv

            recs = list(csv.DictReader(io.StringIO(text)))
        else:
            raise ValidationError(f"a flow takes JSON, JSON Lines or CSV, not {content_type!r}")
    except json.JSONDecodeError as exc:
        raise ValidationError(f"the JSON payload is malformed: {exc.msg}") from None
    if not all(isinstance(r, dict) for r in recs):
        raise ValidationError("a flow takes records as objects ({column: value})")
    return recs


# -- building a handler from a model's containers ---------------------------------------------


def fetch_model_data(store: ArtifactStore, url: str, dest: Path) -> Path:
    """Place a model's artifact in `dest`: model.tar.gz is extracted, a folder copied."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}-download"
    store.download(url, staging)
    for item in sorted(staging.rglob("*")):
        if item.is_file() and item.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(item) as tar:
                tar.extractall(dest, filter="data")
        elif item.is_file():
            target = dest / item.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            item.replace(target)
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    return dest


def build_handler(
    store: ArtifactStore, containers: Sequence[Mapping[str, Any]], workdir: Path
) -> Handler:
    """The handler for a model's containers, with each artifact fetched under `workdir`."""
    stages: list[Handler] = []
    for i, c in enumerate(containers):
        model_dir = workdir / f"model-{i}"
        if c.get("model_data_url"):
            fetch_model_data(store, str(c["model_data_url"]), model_dir)
        else:
            model_dir.mkdir(parents=True, exist_ok=True)
        if c.get("algorithm_name"):
            stages.append(BuiltinHandler(str(c["algorithm_name"]), model_dir))
        elif c.get("entry_point"):
            from sageforge.deploy._user_code import UserCodeHandler

            code_dir = workdir / f"code-{i}"
            if c.get("source_dir"):
                _fetch_code(store, str(c["source_dir"]), code_dir)
            else:
                code_dir = model_dir / "code"  # SageMaker also reads code/ inside model.tar.gz
            stages.append(
                UserCodeHandler(code_dir, str(c["entry_point"]), model_dir, c.get("environment"))
            )
        else:
            stages.append(FlowHandler(_read_url(store, str(c["flow_url"]))))
    return stages[0] if len(stages) == 1 else PipelineHandler(stages)


def _fetch_code(store: ArtifactStore, url: str, code_dir: Path) -> None:
    code_dir.mkdir(parents=True, exist_ok=True)
    if url.endswith((".tar.gz", ".tgz")):
        staging = code_dir.parent / f".{code_dir.name}-download"
        store.download(url, staging)
        for archive in staging.rglob("*.t*gz"):
            with tarfile.open(archive) as tar:
                tar.extractall(code_dir, filter="data")
        return
    store.download(url, code_dir)


def _read_url(store: ArtifactStore, url: str) -> bytes:
    fs, path = store.resolve(url, field="flow_url")
    return bytes(fs.cat_file(path))
