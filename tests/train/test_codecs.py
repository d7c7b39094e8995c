"""Inference payloads: every request form SageMaker's built-ins take, and what a bad one says."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._codecs import (
    choose_accept,
    decode_features,
    encode_predictions,
    parse_libsvm,
    split_content_type,
)


def test_split_content_type_lowercases_type_and_keys_but_keeps_values() -> None:
    assert split_content_type("Text/CSV; Header=present; target=Churn") == (
        "text/csv",
        {"header": "present", "target": "Churn"},
    )
    assert split_content_type("") == ("", {})
    assert split_content_type(None) == ("", {})


# -- CSV -----------------------------------------------------------------------------------------


def test_csv_one_row_and_many_rows() -> None:
    one = decode_features(b"1.5,2,-3e2", "text/csv")
    assert isinstance(one, np.ndarray)
    assert one.dtype == np.float32 and one.shape == (1, 3)
    assert one.tolist() == [[1.5, 2.0, -300.0]]
    many = decode_features(b"1,2\r\n3,4\n\n5,6\n", "text/csv; charset=utf-8")
    assert many.tolist() == [[1, 2], [3, 4], [5, 6]]


def test_csv_empty_and_null_cells_are_missing() -> None:
    X = decode_features(b"1,,3\nNA,2,nan\n", "text/csv")
    assert isinstance(X, np.ndarray)
    assert math.isnan(X[0, 1]) and math.isnan(X[1, 0]) and math.isnan(X[1, 2])
    assert X[0, 2] == 3 and X[1, 1] == 2


def test_csv_ragged_row_names_the_row() -> None:
    with pytest.raises(ValidationError, match=r"CSV row 3 has 2 values; row 1 has 3"):
        decode_features(b"1,2,3\n4,5,6\n7,8\n", "text/csv")


def test_csv_non_number_names_row_and_column() -> None:
    with pytest.raises(ValidationError, match=r"CSV row 2, column 3: 'abc' is not a number"):
        decode_features(b"1,2,3\n4,5,abc\n", "text/csv")


def test_csv_empty_payload() -> None:
    with pytest.raises(ValidationError, match="no rows"):
        decode_features(b"\n \n", "text/csv")


def test_not_utf8() -> None:
    with pytest.raises(ValidationError, match="not UTF-8"):
        decode_features(b"1,\xff", "text/csv")


# -- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"instances": [{"features": [1, 2]}, {"features": [3, 4]}]},
        {"instances": [[1, 2], [3, 4]]},
        [[1, 2], [3, 4]],
    ],
)
def test_json_record_forms(payload: object) -> None:
    X = decode_features(json.dumps(payload).encode(), "application/json")
    assert isinstance(X, np.ndarray) and X.dtype == np.float32
    assert X.tolist() == [[1, 2], [3, 4]]


def test_json_single_row_forms_and_null() -> None:
    assert decode_features(b"[1, 2.5, 3]", "application/json").tolist() == [[1, 2.5, 3]]
    X = decode_features(b'{"features": [1, null]}', "application/json")
    assert X.shape == (1, 2) and math.isnan(X[0, 1])


def test_json_ragged_instances() -> None:
    body = b'{"instances": [{"features": [1, 2]}, {"features": [3]}]}'
    with pytest.raises(ValidationError, match=r"instance 2 has 1 features; instance 1 has 2"):
        decode_features(body, "application/json")


def test_json_non_number() -> None:
    body = b'{"instances": [[1, 2], [3, "x"]]}'
    with pytest.raises(ValidationError, match=r"instance 2, feature 2: 'x' is not a number"):
        decode_features(body, "application/json")


def test_json_malformed_and_wrong_shapes() -> None:
    with pytest.raises(ValidationError, match=r"malformed at line 1, column \d+"):
        decode_features(b'{"instances": [1, 2', "application/json")
    with pytest.raises(ValidationError, match='needs "instances"'):
        decode_features(b'{"rows": [[1]]}', "application/json")
    with pytest.raises(ValidationError, match='instance 1 has no "features"'):
        decode_features(b'{"instances": [{"x": [1]}]}', "application/json")
    with pytest.raises(ValidationError, match="object or a list"):
        decode_features(b"3", "application/json")
    with pytest.raises(ValidationError, match="no instances"):
        decode_features(b'{"instances": []}', "application/json")


def test_jsonlines_records_and_bad_line() -> None:
    X = decode_features(b'{"features": [1, 2]}\n\n[3, 4]\n', "application/jsonlines")
    assert X.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValidationError, match="JSON Lines line 2 is not valid JSON"):
        decode_features(b"[1, 2]\n[3, \n", "application/jsonlines")
    with pytest.raises(ValidationError, match=r"line 2, feature 1: 'a' is not a number"):
        decode_features(b'[1]\n["a"]\n', "application/jsonlines")


# -- LIBSVM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/libsvm", "text/x-libsvm"])
def test_libsvm_with_and_without_labels(content_type: str) -> None:
    X = decode_features(b"1 0:1.5 3:2\n2:7\n", content_type)
    assert isinstance(X, scipy.sparse.csr_matrix) and X.dtype == np.float32
    assert X.shape == (2, 4)
    assert X.toarray().tolist() == [[1.5, 0, 0, 2], [0, 0, 7, 0]]


def test_parse_libsvm_labels_and_qid() -> None:
    X, y, qid = parse_libsvm("1 qid:3 1:1\n0 qid:3 2:1  # comment\n", labelled=True)
    assert y is not None and y.tolist() == [1, 0]
    assert qid is not None and qid.tolist() == [3, 3]
    assert X.shape == (2, 3)


def test_libsvm_errors_name_the_line() -> None:
    with pytest.raises(ValidationError, match=r"LIBSVM line 2: 'oops' is not index:value"):
        decode_features(b"1 1:2\n1 oops\n", "text/libsvm")
    with pytest.raises(ValidationError, match=r"line 1: feature 2 'x' is not a number"):
        decode_features(b"1 2:x\n", "text/libsvm")
    with pytest.raises(ValidationError, match=r"line 1: feature index '-1'"):
        decode_features(b"1 -1:2\n", "text/libsvm")
    with pytest.raises(ValidationError, match="line 1 has no label"):
        parse_libsvm("1:2\n", labelled=True)


def test_unsupported_request_type() -> None:
    with pytest.raises(ValidationError, match="not supported") as info:
        decode_features(b"x", "image/png")
    assert info.value.field == "ContentType"


# -- responses -----------------------------------------------------------------------------------


def test_encode_csv_one_per_line_and_rows() -> None:
    body, ctype = encode_predictions(np.array([0.25, 1.0], np.float32), "text/csv")
    assert (body, ctype) == (b"0.25\n1.0", "text/csv")
    body, _ = encode_predictions(np.array([[0.1, 0.9], [0.5, 0.5]], np.float32), "text/csv")
    assert body == b"0.1,0.9\n0.5,0.5"


def test_encode_float32_round_trips_exactly() -> None:
    preds = np.random.default_rng(0).random(100).astype(np.float32)
    body, _ = encode_predictions(preds, "text/csv")
    back = np.array(body.decode().split("\n"), dtype=np.float32)
    assert np.array_equal(back, preds)


def test_encode_json_and_jsonlines() -> None:
    preds = np.array([0.5, np.nan], np.float32)
    body, ctype = encode_predictions(preds, "application/json")
    assert ctype == "application/json"
    assert json.loads(body) == {"predictions": [{"score": 0.5}, {"score": None}]}
    body, ctype = encode_predictions(np.array([[0.25, 0.75]], np.float32), "application/jsonlines")
    assert ctype == "application/jsonlines"
    assert [json.loads(line) for line in body.splitlines()] == [{"score": [0.25, 0.75]}]
    body, _ = encode_predictions(np.array([1, 0]), "application/json", key="predicted_label")
    assert json.loads(body) == {"predictions": [{"predicted_label": 1}, {"predicted_label": 0}]}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "text/csv"),
        ("*/*", "text/csv"),
        ("application/json", "application/json"),
        ("application/xml, application/jsonlines;q=0.9", "application/jsonlines"),
        ("application/json; verbose=true", "application/json"),
    ],
)
def test_choose_accept(accept: str, chosen: str) -> None:
    assert choose_accept(accept) == chosen


def test_unsupported_accept() -> None:
    with pytest.raises(ValidationError, match="cannot answer in 'image/png'") as info:
        encode_predictions(np.zeros(1), "image/png")
    assert info.value.field == "Accept"
