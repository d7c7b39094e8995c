"""The user's inference.py, with the contract of SageMaker's framework containers.

The script may define `model_fn(model_dir)` (required unless `transform_fn`
loads nothing), `input_fn(request_body, request_content_type)`,
`predict_fn(input_data, model)`, `output_fn(prediction, accept)`, or one
`transform_fn(model, request_body, content_type, accept)` instead of the last
three. Missing ones get SageMaker's defaults: `application/json`, `text/csv`
and `application/x-npy` in and out, `model.predict` (or `model(...)`) between.
Any of them may take an extra `context` argument to read the request's custom
attributes and inference id, and to set `context.response_custom_attributes`.

An exception in the user's code becomes a ModelError carrying its traceback;
a payload the *default* decoders cannot read is the client's mistake (4xx).
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.deploy._handler import Handler, InvocationContext, ModelError

NPY = "application/x-npy"
_SUPPORTED = ("application/json", "text/csv", NPY)


def default_input_fn(body: bytes, content_type: str) -> Any:
    """SageMaker's default decoder: JSON, CSV or NPY into a numpy array."""
    base = content_type.split(";", 1)[0].strip().lower()
    try:
        if base == "application/json":
            return np.asarray(json.loads(body))
        if base == "text/csv":
            rows = [r for r in body.decode("utf-8").splitlines() if r.strip()]
            return np.asarray([[float(x) for x in r.split(",")] for r in rows])
        if base == NPY:
            return np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot decode the {base} payload: {exc}") from None
    raise ValidationError(
        f"content type {content_type!r} is not supported by the default input_fn; "
        f"send one of {', '.join(_SUPPORTED)} or define input_fn"
    )


def default_predict_fn(data: Any, model: Any) -> Any:
    """`model.predict(data)` when the model has it, else `model(data)`.

    An XGBoost `Booster` predicts on arrays through `inplace_predict` (its
    `predict` takes only a DMatrix), as the XGBoost container's default does.
    """
    xgb = sys.modules.get("xgboost")
    if xgb is not None and isinstance(model, xgb.Booster):
        return model.inplace_predict(data)
    return model.predict(data) if hasattr(model, "predict") else model(data)


FRAMEWORK_ENV = "SAGEFORGE_FRAMEWORK"
"""The framework container a model's script was written for (set by the SageMaker API)."""


def _framework_default_model(framework: str | None, model_dir: Path) -> tuple[Any, Any] | None:
    """(model, built-in) when the framework's container loads a model without a model_fn.

    SageMaker's XGBoost container does: it loads the booster from the model
    directory (any of XGBoost's formats, or a pickle) and serves it like the
    built-in algorithm (CSV, LIBSVM, JSON in; CSV or JSON out).
    """
    if framework != "xgboost":
        return None
    from sageforge.train.algorithms import get_algorithm

    builtin = get_algorithm("xgboost")
    return builtin.load_model(model_dir), builtin


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """SageMaker's default encoder: JSON, CSV or NPY."""
    base = (accept or "application/json").split(",")[0].split(";", 1)[0].strip().lower()
    if base in ("*/*", "application/json"):
        value = prediction.tolist() if hasattr(prediction, "tolist") else prediction
        return json.dumps(value).encode(), "application/json"
    if base == "text/csv":
        arr = np.asarray(prediction)
        rows = arr.reshape(len(arr), -1) if arr.ndim else arr.reshape(1, 1)
        return "\n".join(",".join(str(v) for v in row) for row in rows).encode(), "text/csv"
    if base == NPY:
        buf = io.BytesIO()
        np.save(buf, np.asarray(prediction), allow_pickle=False)
        return buf.getvalue(), NPY
    raise ValidationError(
        f"cannot answer in {accept!r}; accept one of {', '.join(_SUPPORTED)} or define output_fn",
        field="Accept",
    )


class UserCodeHandler(Handler):
    """Runs the user's inference.py; see the module docstring."""

    blocking = True

    def __init__(
        self,
        code_dir: Path,
        entry_point: str,
        model_dir: Path,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        script = code_dir / entry_point
        if not script.is_file():
            raise FileNotFoundError(f"entry point {entry_point!r} not found in {code_dir}")
        for key, value in (environment or {}).items():
            os.environ.setdefault(key, value)
        os.environ.setdefault("SM_MODEL_DIR", str(model_dir))
        sys.path.insert(0, str(code_dir))
        spec = importlib.util.spec_from_file_location("inference", script)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["inference"] = module
        self._call("loading inference.py", spec.loader.exec_module, module)
        self.transform_fn = getattr(module, "transform_fn", None)
        self.input_fn = getattr(module, "input_fn", None)
        self.predict_fn = getattr(module, "predict_fn", None)
        self.output_fn = getattr(module, "output_fn", None)
        model_fn = getattr(module, "model_fn", None)
        self._builtin: Any = None
        framework = (environment or {}).get(FRAMEWORK_ENV)
        default = (
            None
            if model_fn or self.transform_fn
            else _framework_default_model(framework, model_dir)
        )
        if model_fn is None and self.transform_fn is None and default is None:
            raise ModelError(
                f"{entry_point} defines neither model_fn nor transform_fn",
                "SageMaker's contract: define model_fn(model_dir) to load the model",
            )
        if default is not None:
            self.model, self._builtin = default
        else:
            self.model = self._call("model_fn", model_fn, str(model_dir)) if model_fn else None
        self._wants_context = {
            name: _takes_context(getattr(module, name, None))
            for name in ("transform_fn", "input_fn", "predict_fn", "output_fn")
        }

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError:
            raise
        except Exception as exc:
            tb = traceback.format_exc()
            print(tb, file=sys.stderr, flush=True)  # the worker's log is the model's log
            raise ModelError(f"{what} raised {type(exc).__name__}: {exc}", tb) from exc

    def _user(self, name: str, ctx: InvocationContext | None, *args: Any) -> Any:
        fn = getattr(self, name)
        if self._wants_context.get(name):
            return self._call(name, fn, *args, context=ctx or InvocationContext())
        return self._call(name, fn, *args)

    def invoke(
        self, body: bytes, content_type: str, accept: str, ctx: InvocationContext | None = None
    ) -> tuple[bytes, str]:
        if self.transform_fn is not None:
            out = self._user("transform_fn", ctx, self.model, body, content_type, accept)
            return _as_answer(out, accept)
        if self._builtin is not None and not (self.input_fn or self.predict_fn or self.output_fn):
            return self._call(  # type: ignore[no-any-return]
                "predict", self._builtin.predict, self.model, body, content_type, accept
            )
        data = (
            self._user("input_fn", ctx, body, content_type)
            if self.input_fn
            else default_input_fn(body, content_type)
        )
        prediction = (
            self._user("predict_fn", ctx, data, self.model)
            if self.predict_fn
            else self._call("predict", default_predict_fn, data, self.model)
        )
        if self.output_fn:
            return _as_answer(self._user("output_fn", ctx, prediction, accept), accept)
        return default_output_fn(prediction, accept)


def _takes_context(fn: Any) -> bool:
    if fn is None:
        return False
    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _as_answer(out: Any, accept: str) -> tuple[bytes, str]:
    """A user function's return value as (body, content type), as the toolkit accepts it."""
    if isinstance(out, tuple) and len(out) == 2:
        body, ctype = out
    else:
        body, ctype = out, (accept or "application/json").split(",")[0].strip()
    if ctype in ("*/*", ""):
        ctype = "application/json"
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, (bytes, bytearray, memoryview)):
        body = json.dumps(body.tolist() if hasattr(body, "tolist") else body).encode()
    return bytes(body), str(ctype)
