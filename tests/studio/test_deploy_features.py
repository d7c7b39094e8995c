"""What the test form asks for and sends: feature discovery from flows, form parsing, answers."""

from __future__ import annotations

import json

import pytest

from sageforge.studio.deploy_features import (
    Feature,
    ModelInputs,
    example_values,
    flow_output_inputs,
    flow_record_inputs,
    kind_of,
    parse_form,
    unused_columns,
)
from sageforge.studio.deploy_invoke import interpret, read_values

FLOW = {
    "name": "prep",
    "target": "churn",
    "source": {"dataset": "churn"},
    "steps": [
        {"type": "drop_columns", "params": {"columns": ["customer_id", "notes"]}},
        {"type": "format_string", "params": {"columns": ["contract"], "operation": "strip"}},
        {"type": "drop_columns", "params": {"columns": ["contract_raw", "tenure"]}},
        {
            "type": "one_hot_encode",
            "params": {"columns": ["contract"]},
            "state": {"columns": {"contract": {"categories": ["monthly", "yearly"]}}},
        },
    ],
    "fitted": {
        "input_schema": {
            "customer_id": "String",
            "churn": "String",
            "tenure": "Int64",
            "charges": "Float64",
            "contract": "String",
            "senior": "Boolean",
            "notes": "String",
            "contract_raw": "String",
        },
        "output_schema": {
            "churn": "Int64",
            "charges": "Float64",
            "contract_monthly": "Int8",
            "contract_yearly": "Int8",
        },
    },
}


def test_a_pipeline_asks_for_the_raw_columns_the_flow_reads() -> None:
    inputs = flow_record_inputs(FLOW, {"tenure": 12, "charges": 40.5}, "flow")
    names = [f.name for f in inputs.features]
    # The target is predicted, not asked; customer_id and notes are dropped before any use.
    # contract_raw is dropped too; tenure is dropped but no earlier step read it either.
    assert names == ["charges", "contract", "senior"]
    assert inputs.hidden == ("customer_id", "notes", "contract_raw", "tenure")
    assert inputs.payload == "records" and inputs.target == "churn"
    by_name = {f.name: f for f in inputs.features}
    assert by_name["contract"].choices == ("monthly", "yearly")
    assert by_name["senior"].kind == "boolean"
    assert by_name["charges"].example == 40.5


def test_a_column_read_before_it_is_dropped_is_asked_for() -> None:
    flow = {
        "steps": [
            {"type": "map_values", "params": {"column": "a", "mapping": {"x": 1}}},
            {"type": "drop_columns", "params": {"columns": ["a", "b"]}},
        ]
    }
    assert unused_columns(flow) == ["b"]


def test_a_plain_model_asks_for_the_exported_columns_in_order() -> None:
    inputs = flow_output_inputs(FLOW, ["40.5", "1", "0"], "export", "store://p/flow.json")
    assert [f.name for f in inputs.features] == ["charges", "contract_monthly", "contract_yearly"]
    assert [f.kind for f in inputs.features] == ["number", "integer", "integer"]
    assert example_values(inputs) == {"feature0": "40.5", "feature1": "1", "feature2": "0"}
    assert inputs.payload == "csv" and inputs.flow_url == "store://p/flow.json"
    # A sample row of the wrong width is not used as the example.
    assert flow_output_inputs(FLOW, ["1"], "export", "x").features[0].example is None


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [("Int64", "integer"), ("UInt8", "integer"), ("Float32", "number"), ("Boolean", "boolean"),
     ("String", "text"), ("Datetime", "text")],
)  # fmt: skip
def test_kinds(dtype: str, kind: str) -> None:
    assert kind_of(dtype) == kind


RECORD = ModelInputs(
    (
        Feature("tenure", "integer", "Int64"),
        Feature("charges", "number", "Float64"),
        Feature("senior", "boolean", "Boolean"),
        Feature("contract", "text", "String"),
    ),
    "records",
    "test",
)


def test_a_record_is_sent_as_json_with_typed_values_and_blanks_as_missing() -> None:
    body, ctype, errors, values = parse_form(
        RECORD, {"feature0": " 12 ", "feature1": "3.5", "feature2": "yes", "feature3": ""}
    )
    assert errors == {} and ctype == "application/json"
    assert json.loads(body or b"") == {
        "instances": [{"tenure": 12, "charges": 3.5, "senior": True, "contract": None}]
    }
    assert values["feature0"] == "12"


def test_bad_values_are_named_per_field_and_nothing_is_sent() -> None:
    body, _, errors, values = parse_form(
        RECORD, {"feature0": "12.5", "feature1": "abc", "feature2": "maybe", "feature3": "x"}
    )
    assert body is None
    assert errors == {
        "feature0": "tenure must be a whole number, like 12",
        "feature1": "charges must be a number, like 42 or 3.5",
        "feature2": "senior must be true or false",
    }
    assert values["feature1"] == "abc"  # shown again as typed
    _, _, errors, _ = parse_form(RECORD, {"feature1": "inf", "feature0": "3.0"})
    assert errors == {"feature1": "charges must be a finite number"}


def test_a_csv_model_gets_one_row_in_feature_order() -> None:
    inputs = ModelInputs(
        (Feature("a", "number", "number"), Feature("b", "number", "number")), "csv", "t"
    )
    body, ctype, errors, _ = parse_form(inputs, {"feature0": "1.5", "feature1": ""})
    assert (body, ctype, errors) == (b"1.5,", "text/csv", {})


def test_a_raw_body_is_required() -> None:
    raw = ModelInputs((), "raw", "unknown")
    assert parse_form(raw, {"body": " ", "content_type": "text/csv"})[2] == {
        "body": "Type the request body to send."
    }
    body, ctype, errors, _ = parse_form(raw, {"body": "1,2", "content_type": "text/csv"})
    assert (body, ctype, errors) == (b"1,2", "text/csv", {})


@pytest.mark.parametrize(
    ("body", "ctype", "values"),
    [
        ("0.25", "text/csv", [0.25]),
        ("0.25\n0.75\n", "text/csv; charset=utf-8", [0.25, 0.75]),
        ('{"predictions": [{"score": 0.5}]}', "application/json", [0.5]),
        ("[1, 2]", "application/json", [1, 2]),
        ('{"label": "cat"}\n{"label": "dog"}', "application/jsonlines", ["cat", "dog"]),
        ("", "text/csv", []),
    ],
)
def test_answers_are_read_as_values(body: str, ctype: str, values: list[object]) -> None:
    assert read_values(body, ctype) == values


def test_a_single_score_is_explained_by_the_objective() -> None:
    assert "predicted class 1" in (interpret([0.8], "binary:logistic") or "")
    assert "predicted class 0" in (interpret([0.2], None) or "")
    assert interpret([3.0], "multi:softmax") == "predicted class 3"
    assert interpret([12.5], "reg:squarederror") == "predicted value 12.5"
    assert interpret([0.1, 0.2], "binary:logistic") is None
    assert interpret(["cat"], None) is None
