"""The Predictor's serializers and deserializers."""

from __future__ import annotations

import io
import json

import numpy as np

from sageforge.sdk.predictor import deserialize, serialize


def test_serialize() -> None:
    assert serialize(np.array([[1.0, 2.5], [3, 4]]), "text/csv") == b"1.0,2.5\n3.0,4.0"
    assert serialize([1, 2], "text/csv") == b"1,2"
    assert serialize("a,b", "text/csv") == b"a,b"
    assert json.loads(serialize({"instances": [[1]]}, "application/json")) == {"instances": [[1]]}
    assert json.loads(serialize(np.array([1, 2]), "application/json")) == [1, 2]
    assert serialize([{"a": 1}, {"a": 2}], "application/jsonlines") == b'{"a": 1}\n{"a": 2}'
    assert np.load(io.BytesIO(serialize(np.arange(3), "application/x-npy"))).tolist() == [0, 1, 2]


def test_deserialize() -> None:
    assert deserialize(b"0.5\n0.25", "text/csv").tolist() == [0.5, 0.25]
    assert deserialize(b"1,2\n3,4", "text/csv").shape == (2, 2)
    assert deserialize(b"a,b", "text/csv") == "a,b"
    assert deserialize(b'{"x": 1}', "application/json; charset=utf-8") == {"x": 1}
    assert deserialize(b'{"a":1}\n{"a":2}', "application/jsonlines") == [{"a": 1}, {"a": 2}]
    assert deserialize(b"raw", "application/octet-stream") == b"raw"
