"""The inference.py contract: defaults, context, and how errors are sorted."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sageforge.core.errors import ValidationError
from sageforge.deploy._handler import InvocationContext, ModelError
from sageforge.deploy._user_code import UserCodeHandler, default_input_fn, default_output_fn


def test_default_codecs() -> None:
    assert default_input_fn(b"[[1, 2]]", "application/json").tolist() == [[1, 2]]
    assert default_input_fn(b"1,2\n3,4\n", "text/csv").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    assert default_input_fn(buf.getvalue(), "application/x-npy").tolist() == [0, 1, 2]
    with pytest.raises(ValidationError, match="not supported"):
        default_input_fn(b"x", "image/png")
    with pytest.raises(ValidationError, match="cannot decode"):
        default_input_fn(b"1,a", "text/csv")
    assert default_output_fn(np.array([1.5]), "application/json") == (b"[1.5]", "application/json")
    assert default_output_fn(np.array([[1, 2]]), "text/csv") == (b"1,2", "text/csv")


def _handler(tmp_path: Path, code: str) -> UserCodeHandler:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "inference.py").write_text(textwrap.dedent(code))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "w.json").write_text("2.0")
    return UserCodeHandler(code_dir, "inference.py", model_dir)


def test_handler_functions_and_context(tmp_path: Path) -> None:
    h = _handler(
        tmp_path,
        """
        import json, os

        def model_fn(model_dir):
            with open(os.path.join(model_dir, "w.json")) as fh:
                return float(fh.read())

        def predict_fn(data, model, context):
            context.response_custom_attributes = "variant=" + str(context.variant)
            return data * model

        def output_fn(prediction, accept):
            if prediction.sum() < 0:
                raise ValueError("negative")
            return json.dumps(prediction.tolist()), "application/json"
        """,
    )
    ctx = InvocationContext(variant="A")
    body, ctype = h.invoke(b"[1, 2]", "application/json", "application/json", ctx)
    assert json.loads(body) == [2.0, 4.0] and ctype == "application/json"
    assert ctx.response_custom_attributes == "variant=A"
    with pytest.raises(ModelError) as err:
        h.invoke(b"[-1]", "application/json", "application/json")
    assert "output_fn raised ValueError: negative" in err.value.message
    assert "inference.py" in err.value.log
    with pytest.raises(ValidationError):
        h.invoke(b"oops", "text/csv", "application/json")


def test_a_script_without_model_fn_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="neither model_fn nor transform_fn"):
        _handler(tmp_path, "x = 1\n")
