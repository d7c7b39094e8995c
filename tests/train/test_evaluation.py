"""sageforge.train.evaluation: the evaluation dict's shape and values, and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from sageforge.core.errors import ValidationError
from sageforge.train import evaluation as ev
from sageforge.train.evaluation import (
    CURVE_POINTS,
    SAMPLE_POINTS,
    THRESHOLDS,
    evaluate,
    evaluate_classification,
    evaluate_regression,
    infer_problem_type,
    write_report,
)

RTOL = 1e-12


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def _binary(rng: np.random.Generator, n: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random(n) < 0.35).astype(np.int64)
    return y, np.clip(rng.normal(0.4 + 0.25 * y, 0.2), 0, 1)


def _multiclass(rng: np.random.Generator, n: int = 3000, k: int = 4):
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[y]
    return y, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def _regression(rng: np.random.Generator, n: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    y = rng.normal(50, 10, n)
    return y, y + rng.normal(0, 3, n)


def _value(section: dict[str, Any], key: str) -> float:
    item = section[key]
    assert set(item) == {"value", "standard_deviation"}
    assert item["standard_deviation"] is None
    return item["value"]


def _json_roundtrip(result: dict[str, Any]) -> dict[str, Any]:
    """Strict JSON: no NaN, no infinity, no NumPy types."""
    return json.loads(json.dumps(result, allow_nan=False))


def test_all_is_sorted_and_nothing_else_leaks() -> None:
    # Constants first, then the rest, as ruff's RUF022 orders `__all__`.
    assert ev.__all__ == sorted(ev.__all__, key=lambda name: (not name.isupper(), name))
    assert {n for n in dir(ev) if not n.startswith("_")} == set(ev.__all__)


# --- inference -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y_true", "predictions", "expected"),
    [
        ([0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3], "binary"),
        ([0.0, 1.0, 1.0, 0.0], [0.1, 0.8, 0.6, 0.3], "binary"),
        ([True, False, True], [0.9, 0.2, 0.4], "binary"),
        (["no", "yes", "no"], [0.1, 0.8, 0.6], "binary"),
        ([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]], "binary"),
        ([0, 2, 1], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2]], "multiclass"),
        (["a", "b", "c"], ["a", "c", "c"], "multiclass"),
        ([0, 1, 1, 0], [-2.0, 3.0, 1.0, 0.5], "regression"),  # margins, not probabilities
        ([1.5, 2.5, 3.0], [1.4, 2.6, 2.9], "regression"),
        ([3, 7, 9, 4], [0.1, 0.8, 0.6, 0.3], "regression"),  # integer target, many values
    ],
)
def test_infer_problem_type(y_true, predictions, expected) -> None:
    assert infer_problem_type(y_true, predictions) == expected
    assert evaluate(y_true, predictions)["problem_type"] == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BinaryClassification", "binary"),
        ("multiclass", "multiclass"),
        ("Regression", "regression"),
    ],
)
def test_problem_type_accepts_sagemaker_names(rng: np.random.Generator, name, expected) -> None:
    y, s = _binary(rng, 200)
    proba = np.column_stack([1 - s, s * 0.5, s * 0.5]) if expected == "multiclass" else s
    y = np.where(rng.random(200) < 0.2, 2, y) if expected == "multiclass" else y
    assert evaluate(y, proba, name)["problem_type"] == expected


@pytest.mark.parametrize(
    ("y_true", "predictions", "problem_type"),
    [
        ([0, 1], [0.2, 0.7], "ranking"),
        ([0, 1, 2], [0.2, 0.7, 0.5], "binary"),
        ([0, 1, 2], np.full((3, 3), 1 / 3), "binary"),
    ],
)
def test_problem_type_rejects_unknown_or_wrong(y_true, predictions, problem_type) -> None:
    with pytest.raises(ValidationError) as err:
        evaluate(y_true, predictions, problem_type)
    assert err.value.field == "problem_type"


# --- binary --------------------------------------------------------------------------


def test_binary_evaluation_shape_and_values(rng: np.random.Generator) -> None:
    y, s = _binary(rng)
    result = _json_roundtrip(evaluate(y, s))
    assert result["problem_type"] == "binary"
    assert result["n_rows"] == result["dataset"]["item_count"] == len(y)
    assert (result["labels"], result["positive_label"], result["threshold"]) == ([0, 1], 1, 0.5)
    section = result["binary_classification_metrics"]
    pred = (s >= 0.5).astype(int)
    assert _value(section, "accuracy") == pytest.approx(skm.accuracy_score(y, pred))
    assert _value(section, "precision") == pytest.approx(skm.precision_score(y, pred))
    assert _value(section, "recall") == pytest.approx(skm.recall_score(y, pred))
    assert _value(section, "f1") == pytest.approx(skm.f1_score(y, pred))
    assert _value(section, "f2") == pytest.approx(skm.fbeta_score(y, pred, beta=2))
    assert _value(section, "balanced_accuracy") == pytest.approx(
        skm.balanced_accuracy_score(y, pred)
    )
    assert _value(section, "auc") == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL)
    assert _value(section, "pr_auc") == pytest.approx(skm.average_precision_score(y, s), rel=RTOL)
    assert _value(section, "log_loss") == pytest.approx(skm.log_loss(y, y_proba=s), rel=RTOL)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    assert section["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert result["confusion_matrix"] == {"labels": [0, 1], "matrix": [[tn, fp], [fn, tp]]}
    assert _value(section, "true_positive_rate") == pytest.approx(tp / (tp + fn))
    assert _value(section, "false_positive_rate") == pytest.approx(fp / (fp + tn))
    prevalence = y.mean()
    assert _value(section, "accuracy_best_constant_classifier") == pytest.approx(
        max(prevalence, 1 - prevalence)
    )
    assert _value(section, "recall_best_constant_classifier") == 1.0
    assert _value(section, "precision_best_constant_classifier") == pytest.approx(prevalence)
    assert _value(section, "f1_best_constant_classifier") == pytest.approx(
        2 * prevalence / (1 + prevalence)
    )
    assert result["notes"] == []


def test_binary_threshold_table(rng: np.random.Generator) -> None:
    y, s = _binary(rng)
    table = evaluate(y, s)["threshold_table"]
    assert [row["threshold"] for row in table] == list(THRESHOLDS)
    assert THRESHOLDS[0] == 0.05 and THRESHOLDS[-1] == 0.95 and len(THRESHOLDS) == 19
    for row in table:
        pred = (s >= row["threshold"]).astype(int)
        tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (tp, fp, tn, fn)
        assert row["precision"] == pytest.approx(skm.precision_score(y, pred, zero_division=0))
        assert row["recall"] == pytest.approx(skm.recall_score(y, pred))
        assert row["f1"] == pytest.approx(skm.f1_score(y, pred))
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))


def test_binary_curves_are_downsampled_and_aligned(rng: np.random.Generator) -> None:
    y, s = _binary(rng, 50_000)
    result = evaluate(y, s)
    roc, pr = result["curves"]["roc"], result["curves"]["precision_recall"]
    assert 2 < len(roc["false_positive_rates"]) <= CURVE_POINTS
    assert (
        len(roc["thresholds"])
        == len(roc["true_positive_rates"])
        == len(roc["false_positive_rates"])
    )
    assert roc["thresholds"][0] is None  # sklearn's +inf, made JSON-safe
    assert len(pr["precisions"]) <= CURVE_POINTS and len(pr["thresholds"]) == len(pr["recalls"]) - 1
    section = result["binary_classification_metrics"]
    assert (
        section["receiver_operating_characteristic_curve"]["true_positive_rates"]
        == roc["true_positive_rates"]
    )
    assert section["precision_recall_curve"]["recalls"] == pr["recalls"]


def test_binary_string_labels_probability_columns_and_threshold(rng: np.random.Generator) -> None:
    y, s = _binary(rng, 1000)
    names = np.array(["churn", "stay"])[1 - y]  # "churn" is the positive class, sorted first
    proba = np.column_stack([1 - s, s])
    result = evaluate_classification(names, proba, labels=["stay", "churn"], threshold=0.3)
    assert result["positive_label"] == "churn"
    section = result["binary_classification_metrics"]
    pred = (s >= 0.3).astype(int)
    assert _value(section, "f1") == pytest.approx(skm.f1_score(y, pred))
    assert _value(section, "auc") == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL)
    assert set(section["confusion_matrix"]) == {"stay", "churn"}


def test_binary_scores_outside_unit_interval_skip_log_loss(rng: np.random.Generator) -> None:
    y, s = _binary(rng, 500)
    margin = (s - 0.5) * 8
    result = evaluate(y, margin, "binary", threshold=0.0)
    section = result["binary_classification_metrics"]
    assert "log_loss" not in section
    assert any(note.startswith("log_loss") for note in result["notes"])
    assert _value(section, "auc") == pytest.approx(skm.roc_auc_score(y, margin), rel=RTOL)


def test_binary_single_class(rng: np.random.Generator) -> None:
    result = _json_roundtrip(evaluate([1, 1, 1], [0.9, 0.4, 0.7], "binary"))
    section = result["binary_classification_metrics"]
    assert "auc" not in section and "pr_auc" in section
    assert _value(section, "true_negative_rate") is None
    assert _value(section, "recall") == pytest.approx(2 / 3)
    assert any(note.startswith("auc") for note in result["notes"])
    with pytest.raises(ValidationError, match="single class") as err:
        evaluate(["yes", "yes"], [0.9, 0.4])
    assert err.value.field == "labels"
    result = evaluate(["yes", "yes"], [0.9, 0.4], labels=["no", "yes"])
    assert result["positive_label"] == "yes"


def test_binary_hard_labels(rng: np.random.Generator) -> None:
    y_true, y_pred = rng.choice(["cat", "dog"], 300), rng.choice(["cat", "dog"], 300)
    result = _json_roundtrip(evaluate(y_true, y_pred))
    section = result["binary_classification_metrics"]
    assert _value(section, "f1") == pytest.approx(skm.f1_score(y_true, y_pred, pos_label="dog"))
    assert "auc" not in section and "curves" not in result and "threshold_table" not in result


def test_binary_rejects_bad_input() -> None:
    with pytest.raises(ValidationError) as err:
        evaluate([0, 1, 1], [0.2, 0.4])
    assert err.value.field == "y_score_or_proba"
    with pytest.raises(ValidationError, match="NaN"):
        evaluate([0, 1, 1], [0.2, np.nan, 0.3], "binary")
    with pytest.raises(ValidationError, match="not among the classes"):
        evaluate([0, 1, 2], [0.2, 0.4, 0.5], "binary", labels=[0, 1])
    with pytest.raises(ValidationError) as err:
        evaluate([0, 1], [0.2, 0.4], "binary", threshold=float("nan"))
    assert err.value.field == "threshold"


# --- multiclass ----------------------------------------------------------------------


def test_multiclass_evaluation_matches_sklearn(rng: np.random.Generator) -> None:
    y, proba = _multiclass(rng)
    result = _json_roundtrip(evaluate(y, proba))
    assert result["problem_type"] == "multiclass"
    section = result["multiclass_classification_metrics"]
    pred = proba.argmax(axis=1)
    assert _value(section, "accuracy") == pytest.approx(skm.accuracy_score(y, pred))
    assert _value(section, "balanced_accuracy") == pytest.approx(
        skm.balanced_accuracy_score(y, pred)
    )
    for key, fn in (
        ("weighted_precision", skm.precision_score),
        ("weighted_recall", skm.recall_score),
        ("weighted_f1", skm.f1_score),
    ):
        assert _value(section, key) == pytest.approx(fn(y, pred, average="weighted"), rel=RTOL)
    assert _value(section, "weighted_f2") == pytest.approx(
        skm.fbeta_score(y, pred, beta=2, average="weighted"), rel=RTOL
    )
    assert _value(section, "macro_f1") == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert _value(section, "auc") == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), rel=1e-10
    )
    assert _value(section, "weighted_auc") == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted"), rel=1e-10
    )
    assert _value(section, "pr_auc") == pytest.approx(
        skm.average_precision_score(y, proba), rel=1e-10
    )
    assert _value(section, "log_loss") == pytest.approx(skm.log_loss(y, y_proba=proba), rel=RTOL)
    freq = np.bincount(y) / len(y)
    assert _value(section, "accuracy_best_constant_classifier") == pytest.approx(freq.max())
    assert _value(section, "weighted_recall_best_constant_classifier") == pytest.approx(freq.max())
    matrix = skm.confusion_matrix(y, pred)
    assert result["confusion_matrix"] == {"labels": [0, 1, 2, 3], "matrix": matrix.tolist()}
    assert section["confusion_matrix"]["2"]["1"] == matrix[2, 1]
    per_class = result["per_class"]
    assert [row["label"] for row in per_class] == [0, 1, 2, 3]
    assert [row["support"] for row in per_class] == np.bincount(y).tolist()
    np.testing.assert_allclose(
        [row["recall"] for row in per_class], skm.recall_score(y, pred, average=None)
    )
    roc = result["curves"]["roc_one_vs_rest"]
    assert len(roc) == 4 and all(len(c["false_positive_rates"]) <= CURVE_POINTS for c in roc)


def test_multiclass_absent_class_is_skipped_with_a_note(rng: np.random.Generator) -> None:
    y, proba = _multiclass(rng, k=4)
    y = np.where(y == 3, 0, y)  # class 3 never occurs, its column stays
    result = _json_roundtrip(evaluate(y, proba))
    assert result["labels"] == [0, 1, 2, 3]
    assert "auc" not in result["per_class"][3]
    assert any("class 3" in note for note in result["notes"])
    expected = np.mean([skm.roc_auc_score(y == j, proba[:, j]) for j in range(3)])
    assert _value(result["multiclass_classification_metrics"], "auc") == pytest.approx(expected)


def test_multiclass_string_labels_and_hard_predictions(rng: np.random.Generator) -> None:
    y, proba = _multiclass(rng, n=600, k=3)
    names = np.array(["low", "mid", "high"])[y]
    result = evaluate(names, proba[:, [2, 0, 1]], labels=["high", "low", "mid"])
    assert _value(result["multiclass_classification_metrics"], "accuracy") == pytest.approx(
        skm.accuracy_score(y, proba.argmax(axis=1))
    )
    hard = evaluate(y, proba.argmax(axis=1), "multiclass")
    assert "curves" not in hard
    assert _value(hard["multiclass_classification_metrics"], "macro_f1") == pytest.approx(
        skm.f1_score(y, proba.argmax(axis=1), average="macro")
    )
    with pytest.raises(ValidationError, match="columns") as err:
        evaluate(np.array(["a", "b", "a"]), np.full((3, 3), 1 / 3))
    assert err.value.field == "labels"


# --- regression ----------------------------------------------------------------------


def test_regression_evaluation(rng: np.random.Generator) -> None:
    y, p = _regression(rng)
    result = _json_roundtrip(evaluate_regression(y, p))
    assert result["problem_type"] == "regression" and result["n_rows"] == len(y)
    section = result["regression_metrics"]
    assert _value(section, "mae") == pytest.approx(skm.mean_absolute_error(y, p), rel=RTOL)
    assert _value(section, "mse") == pytest.approx(skm.mean_squared_error(y, p), rel=RTOL)
    assert _value(section, "rmse") == pytest.approx(skm.root_mean_squared_error(y, p), rel=RTOL)
    assert _value(section, "r2") == pytest.approx(skm.r2_score(y, p), rel=RTOL)
    assert _value(section, "mape") == pytest.approx(
        skm.mean_absolute_percentage_error(y, p), rel=RTOL
    )
    residual = y - p
    summary = result["residuals"]["summary"]
    assert summary["mean"] == pytest.approx(residual.mean())
    assert summary["median"] == pytest.approx(np.median(residual))
    assert sum(result["residuals"]["histogram"]["counts"]) == len(y)
    sample = result["sample"]
    assert sample["rows"] == len(sample["actual"]) == len(sample["predicted"]) == SAMPLE_POINTS
    assert set(sample["actual"]) <= set(y.tolist())


def test_regression_notes_and_errors() -> None:
    result = evaluate_regression([0.0, 1.0, 2.0], [0.1, 1.1, 1.9])
    assert any(note.startswith("mape") for note in result["notes"])
    assert result["sample"]["rows"] == 3
    assert "r2" not in evaluate_regression([1.0], [2.0])["regression_metrics"]
    with pytest.raises(ValidationError) as err:
        evaluate_regression([1.0, 2.0], [1.0, np.inf])
    assert err.value.field == "y_pred"


# --- the report ----------------------------------------------------------------------


def _report(tmp_path: Path, result: dict[str, Any], title: str = "Model evaluation") -> str:
    target = write_report(_json_roundtrip(result), tmp_path / "out" / "report.html", title=title)
    assert target == tmp_path / "out" / "report.html"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temp file left
    return target.read_text(encoding="utf-8")


def _assert_offline_page(page: str, divs: list[str]) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("* plotly.js v") == 1  # plotly.js embedded once, no CDN
    assert "<script src=" not in page  # nothing to fetch: works offline
    assert page.count("Plotly.newPlot(") == len(divs)
    for div in divs:
        assert f'id="{div}"' in page


def test_binary_report(tmp_path: Path, rng: np.random.Generator) -> None:
    y, s = _binary(rng, 2000)
    page = _report(tmp_path, evaluate(y, s), title="Churn <model> v2")
    _assert_offline_page(page, ["roc-curve", "pr-curve", "confusion-matrix"])
    assert "Churn &lt;model&gt; v2" in page and "Churn <model>" not in page
    assert 'id="threshold-table"' in page and "ROC AUC" in page and "Best constant" in page
    assert page.count('class="current"') == 1


def test_multiclass_report(tmp_path: Path, rng: np.random.Generator) -> None:
    y, proba = _multiclass(rng, n=800)
    page = _report(tmp_path, evaluate(y, proba))
    _assert_offline_page(page, ["confusion-matrix", "roc-curve"])
    assert 'id="per-class"' in page and "F1 (weighted)" in page


def test_regression_report(tmp_path: Path, rng: np.random.Generator) -> None:
    y, p = _regression(rng, 3000)
    page = _report(tmp_path, evaluate(y, p))
    _assert_offline_page(
        page, ["predicted-vs-actual", "residuals-vs-predicted", "residual-histogram"]
    )
    assert 'id="residual-summary"' in page and "RMSE" in page


def test_report_replaces_existing_file_and_rejects_non_evaluations(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")
    write_report(evaluate(*_binary(rng, 300)), target, title="t")
    assert target.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValidationError) as err:
        write_report({"problem_type": "binary"}, tmp_path / "x.html", title="t")
    assert err.value.field == "evaluation"
    assert not (tmp_path / "x.html").exists()


def test_report_of_hard_labels_shows_notes(tmp_path: Path, rng: np.random.Generator) -> None:
    y_true, y_pred = rng.choice(["cat", "dog"], 200), rng.choice(["cat", "dog"], 200)
    page = _report(tmp_path, evaluate(y_true, y_pred))
    _assert_offline_page(page, ["confusion-matrix"])
    assert "ranking metrics and curves need scores" in page
    assert 'id="threshold-table"' not in page
