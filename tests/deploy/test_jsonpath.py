"""The JSONPath subset of batch transform's DataProcessing."""

from __future__ import annotations

import pytest

from sageforge.core.errors import ValidationError
from sageforge.deploy._jsonpath import compile_path


@pytest.mark.parametrize(
    ("expr", "record", "expected"),
    [
        ("$", [1, 2], [1, 2]),
        ("$[0]", ["id", 1, 2], "id"),
        ("$[-1]", ["id", 1, 2], 2),
        ("$[1:]", ["id", 1, 2], [1, 2]),
        ("$[:-1]", ["id", 1, 2], ["id", 1]),
        ("$[0,2]", ["id", 1, 2], ["id", 2]),
        ("$.features", {"features": [1, 2]}, [1, 2]),
        ("$.features[1:]", {"features": [0, 1, 2]}, [1, 2]),
        (
            "$['id','SageMakerOutput']",
            {"id": 1, "x": 2, "SageMakerOutput": 3},
            {"id": 1, "SageMakerOutput": 3},
        ),
        ("$['id']", {"id": 7}, 7),
    ],
)
def test_supported_forms(expr: str, record: object, expected: object) -> None:
    assert compile_path(expr)(record) == expected


@pytest.mark.parametrize("expr", ["features", "$..a", "$[?(@.a)]", "$[1:5:2]"])
def test_unsupported_forms_are_refused_with_help(expr: str) -> None:
    with pytest.raises(ValidationError, match=r"\$\[1:\]"):
        compile_path(expr, "data_processing.input_filter")


def test_missing_keys_and_indexes_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="no key"):
        compile_path("$.a")({"b": 1})
    with pytest.raises(ValidationError, match="no index 5"):
        compile_path("$[5]")([1])
