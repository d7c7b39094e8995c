"""sageforge.train.metrics against scikit-learn, on random data, ties and edge cases."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from sageforge.core.errors import ValidationError
from sageforge.train import metrics as m

RTOL = 1e-12


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _binary(rng: np.random.Generator, n: int = 2000, prevalence: float = 0.3, decimals=None):
    y = (rng.random(n) < prevalence).astype(np.int64)
    s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    if decimals is not None:
        s = np.round(s, decimals)  # heavy ties
    return y, s


def _multiclass(rng: np.random.Generator, n: int = 1500, k: int = 4):
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


# --- the package surface -------------------------------------------------------------


def test_all_is_sorted_and_nothing_else_leaks() -> None:
    assert m.__all__ == sorted(m.__all__)
    public = {name for name in dir(m) if not name.startswith("_")}
    assert public == set(m.__all__)


def test_import_is_light() -> None:
    code = (
        "import sys, sageforge.train.metrics, sageforge.train.evaluation; "
        "heavy = {'plotly', 'jinja2', 'sklearn', 'scipy', 'pandas', 'polars'}; "
        "print(sorted(heavy & {k.split('.')[0] for k in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- confusion matrix ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda r: (r.integers(0, 2, 500), r.integers(0, 2, 500)),
        lambda r: (r.integers(0, 5, 500), r.integers(0, 5, 500)),
        lambda r: (r.integers(-3, 2, 500), r.integers(-1, 4, 500)),  # negative, partly disjoint
        lambda r: (r.integers(0, 3, 500) * 10_000, r.integers(0, 3, 500) * 10_000),  # sparse
        lambda r: (r.integers(0, 2, 500).astype(bool), r.integers(0, 2, 500).astype(bool)),
        lambda r: (r.integers(0, 3, 500).astype(float), r.integers(0, 3, 500).astype(float)),
        lambda r: (r.choice(["cat", "dog", "emu"], 500), r.choice(["cat", "dog"], 500)),
    ],
)
def test_confusion_matrix_matches_sklearn(rng: np.random.Generator, make) -> None:
    y_true, y_pred = make(rng)
    np.testing.assert_array_equal(
        m.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    np.testing.assert_array_equal(
        m.unique_labels(y_true, y_pred), np.unique(np.concatenate([y_true, y_pred]))
    )


def test_confusion_matrix_accepts_fractional_labels() -> None:
    # scikit-learn calls these "continuous" and refuses; they are still labels.
    y_true, y_pred = [0.5, 1.5, 1.5, 2.5], [0.5, 1.5, 2.5, 2.5]
    np.testing.assert_array_equal(
        m.confusion_matrix(y_true, y_pred), [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    )
    np.testing.assert_array_equal(m.unique_labels(y_true, y_pred), [0.5, 1.5, 2.5])


@pytest.mark.parametrize("labels", [[2, 0, 1], [1, 0], [0, 1, 2, 7], [3, 1]])
def test_confusion_matrix_with_labels_matches_sklearn(rng: np.random.Generator, labels) -> None:
    y_true, y_pred = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    np.testing.assert_array_equal(
        m.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )


def test_confusion_matrix_string_labels_order(rng: np.random.Generator) -> None:
    y_true, y_pred = rng.choice(["a", "b", "c"], 200), rng.choice(["a", "b", "c"], 200)
    labels = ["c", "a", "b"]
    np.testing.assert_array_equal(
        m.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "field"),
    [
        ([0, 1, 1], [0, 1], {}, "y_pred"),
        ([], [], {}, "y_true"),
        ([0, 1], ["a", "b"], {}, "y_pred"),
        ([0.0, np.nan], [0.0, 1.0], {}, "y_true"),
        ([0, 1], [0, 1], {"labels": [5, 6]}, "labels"),
        ([0, 1], [0, 1], {"labels": [0, 0, 1]}, "labels"),
        ([[0, 1], [1, 0]], [0, 1], {}, "y_true"),
    ],
)
def test_confusion_matrix_rejects_bad_input(y_true, y_pred, kwargs, field) -> None:
    with pytest.raises(ValidationError) as err:
        m.confusion_matrix(y_true, y_pred, **kwargs)
    assert err.value.field == field


# --- threshold metrics ---------------------------------------------------------------


def test_accuracy_and_balanced_accuracy(rng: np.random.Generator) -> None:
    y_true, y_pred = rng.integers(0, 4, 700), rng.integers(0, 4, 700)
    assert m.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m.balanced_accuracy(y_true, y_pred) == pytest.approx(
        skm.balanced_accuracy_score(y_true, y_pred), rel=RTOL
    )


def test_balanced_accuracy_ignores_classes_only_predicted() -> None:
    y_true, y_pred = [0, 0, 1, 1], [0, 2, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about class 2; we do not
        expected = skm.balanced_accuracy_score(y_true, y_pred)
    assert m.balanced_accuracy(y_true, y_pred) == pytest.approx(expected)


@pytest.mark.parametrize("pos_label", [1, 0])
def test_binary_precision_recall_f_match_sklearn(rng: np.random.Generator, pos_label) -> None:
    y_true, y_pred = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    kw = {"pos_label": pos_label, "zero_division": 0}
    assert m.precision(y_true, y_pred, **kw) == pytest.approx(
        skm.precision_score(y_true, y_pred, **kw)
    )
    assert m.recall(y_true, y_pred, **kw) == pytest.approx(skm.recall_score(y_true, y_pred, **kw))
    assert m.f1(y_true, y_pred, **kw) == pytest.approx(skm.f1_score(y_true, y_pred, **kw))
    assert m.fbeta(y_true, y_pred, beta=0.5, **kw) == pytest.approx(
        skm.fbeta_score(y_true, y_pred, beta=0.5, **kw)
    )


def test_binary_string_labels_need_pos_label(rng: np.random.Generator) -> None:
    y_true, y_pred = rng.choice(["no", "yes"], 300), rng.choice(["no", "yes"], 300)
    assert m.f1(y_true, y_pred, pos_label="yes") == pytest.approx(
        skm.f1_score(y_true, y_pred, pos_label="yes")
    )
    with pytest.raises(ValidationError, match="not one of the classes") as err:
        m.f1(y_true, y_pred)
    assert err.value.field == "pos_label"


def test_binary_average_refuses_multiclass(rng: np.random.Generator) -> None:
    with pytest.raises(ValidationError, match="average='binary'") as err:
        m.precision(rng.integers(0, 3, 50), rng.integers(0, 3, 50))
    assert err.value.field == "average"


def test_zero_division_follows_sklearn() -> None:
    y_true, y_pred = [0, 0, 1, 1], [0, 0, 0, 0]  # nothing predicted positive
    assert m.precision(y_true, y_pred) == skm.precision_score(y_true, y_pred, zero_division=0)
    assert m.precision(y_true, y_pred, zero_division=1.0) == 1.0
    assert m.f1([0, 0], [0, 0]) == skm.f1_score([0, 0], [0, 0], zero_division=0)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
@pytest.mark.parametrize("labels", [None, [0, 2], [3, 1, 0], [0, 1, 2, 3, 9]])
def test_multiclass_scores_match_sklearn(rng: np.random.Generator, average, labels) -> None:
    y_true, y_pred = rng.integers(0, 4, 600), rng.integers(0, 4, 600)
    kw = {"average": average, "labels": labels, "zero_division": 0}
    for ours, theirs in (
        (m.precision, skm.precision_score),
        (m.recall, skm.recall_score),
        (m.f1, skm.f1_score),
    ):
        np.testing.assert_allclose(
            ours(y_true, y_pred, **kw), theirs(y_true, y_pred, **kw), rtol=RTOL
        )
    np.testing.assert_allclose(
        m.fbeta(y_true, y_pred, beta=2.0, **kw),
        skm.fbeta_score(y_true, y_pred, beta=2.0, **kw),
        rtol=RTOL,
    )


def test_scores_from_confusion_matches_label_form(rng: np.random.Generator) -> None:
    y_true, y_pred = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    matrix = m.confusion_matrix(y_true, y_pred)
    p, r, f = m.scores_from_confusion(matrix, beta=2.0, average="weighted")
    assert (p, r, f) == pytest.approx(
        m.precision_recall_fscore(y_true, y_pred, beta=2.0, average="weighted")
    )
    with pytest.raises(ValidationError):
        m.scores_from_confusion([[1, 2, 3]])
    with pytest.raises(ValidationError):
        m.scores_from_confusion(matrix, average="binary")


def test_log_loss_matches_sklearn(rng: np.random.Generator) -> None:
    y, s = _binary(rng)
    s[:3] = [0.0, 1.0, 1.0]  # clipped, not infinite
    assert m.log_loss(y, s) == pytest.approx(skm.log_loss(y, y_proba=s), rel=RTOL)
    assert m.log_loss(y, s.astype(np.float32)) == pytest.approx(
        skm.log_loss(y, y_proba=s.astype(np.float32)), rel=1e-6
    )
    y_m, proba = _multiclass(rng)
    assert m.log_loss(y_m, proba) == pytest.approx(skm.log_loss(y_m, y_proba=proba), rel=RTOL)
    names = np.array(["a", "b", "c", "d"])[y_m]
    labels = ["d", "c", "b", "a"]
    flipped = proba[:, ::-1]
    assert m.log_loss(names, flipped, labels=labels) == pytest.approx(
        skm.log_loss(y_m, y_proba=proba), rel=RTOL
    )


def test_log_loss_single_class_needs_labels() -> None:
    assert m.log_loss([1, 1], [0.9, 0.8], labels=[0, 1]) == pytest.approx(
        skm.log_loss([1, 1], y_proba=[0.9, 0.8], labels=[0, 1])
    )
    with pytest.raises(ValidationError, match="single class"):
        m.log_loss([1, 1], [0.9, 0.8])


@pytest.mark.parametrize(
    ("y_proba", "match"),
    [([0.2, 1.2, 0.5], r"\[0, 1\]"), ([[0.5, 0.5]] * 3, "columns"), ([0.2, np.nan, 0.1], "NaN")],
)
def test_log_loss_rejects_bad_probabilities(y_proba, match) -> None:
    with pytest.raises(ValidationError, match=match):
        m.log_loss([0, 1, 2] if np.ndim(y_proba) == 2 else [0, 1, 0], y_proba)


# --- ranking metrics -----------------------------------------------------------------


@pytest.mark.parametrize("decimals", [None, 2, 1])
@pytest.mark.parametrize("prevalence", [0.1, 0.5, 0.9])
def test_binary_roc_auc_and_average_precision(
    rng: np.random.Generator, decimals, prevalence
) -> None:
    y, s = _binary(rng, prevalence=prevalence, decimals=decimals)
    assert m.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL)
    assert m.pr_auc(y, s) == pytest.approx(skm.average_precision_score(y, s), rel=RTOL)


def test_roc_auc_all_tied_and_perfect() -> None:
    assert m.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert m.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert m.roc_auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert m.pr_auc([0, 1, 0, 1], [0.5] * 4) == skm.average_precision_score([0, 1, 0, 1], [0.5] * 4)


@pytest.mark.parametrize(
    ("y", "pos_label", "expected_pos"),
    [
        (np.array([-1, 1]), None, 1),
        (np.array([False, True]), None, True),
        (np.array([3, 7]), None, 7),
        (np.array(["neg", "pos"]), "pos", "pos"),
        (np.array([0, 1]), 0, 0),
    ],
)
def test_roc_auc_label_conventions(rng: np.random.Generator, y, pos_label, expected_pos) -> None:
    y_true = rng.choice(y, 500)
    s = rng.random(500) + (y_true == expected_pos) * 0.3
    expected = skm.roc_auc_score(y_true == expected_pos, s)
    assert m.roc_auc(y_true, s, pos_label=pos_label) == pytest.approx(expected, rel=RTOL)


def test_roc_auc_integer_and_float32_scores(rng: np.random.Generator) -> None:
    y = rng.integers(0, 2, 1000)
    ints = rng.integers(0, 5, 1000) + y
    assert m.roc_auc(y, ints) == pytest.approx(skm.roc_auc_score(y, ints), rel=RTOL)
    f32 = (rng.random(1000) + 0.2 * y).astype(np.float32)
    assert m.roc_auc(y, f32) == pytest.approx(skm.roc_auc_score(y, f32), rel=RTOL)


@pytest.mark.parametrize(
    ("y_true", "y_score", "match"),
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "no negative rows"),
        ([0, 0, 0], [0.1, 0.2, 0.3], "no positive rows"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "more than two classes"),
        ([0, 1, 1], [0.1, np.inf, 0.3], "NaN or infinite"),
        ([0, 1, 1], [0.1, 0.3], "rows"),
        ([0, 1], ["a", "b"], "numeric"),
    ],
)
def test_roc_auc_rejects_bad_input(y_true, y_score, match) -> None:
    with pytest.raises(ValidationError, match=match):
        m.roc_auc(y_true, y_score)


def test_pr_auc_needs_a_positive_only() -> None:
    assert m.pr_auc([1, 1, 1], [0.1, 0.2, 0.3]) == 1.0
    with pytest.raises(ValidationError, match="no positive rows"):
        m.pr_auc([0, 0], [0.1, 0.2])


@pytest.mark.parametrize("average", ["macro", "weighted", "micro"])
def test_multiclass_roc_auc_and_pr_auc(rng: np.random.Generator, average) -> None:
    y, proba = _multiclass(rng)
    assert m.roc_auc(y, proba, average=average) == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average=average), rel=1e-10
    )
    assert m.pr_auc(y, proba, average=average) == pytest.approx(
        skm.average_precision_score(y, proba, average=average), rel=1e-10
    )


def test_multiclass_per_class_and_labels(rng: np.random.Generator) -> None:
    y, proba = _multiclass(rng, k=3)
    per_class = m.roc_auc(y, proba, average=None)
    expected = [skm.roc_auc_score(y == j, proba[:, j]) for j in range(3)]
    np.testing.assert_allclose(per_class, expected, rtol=RTOL)
    names = np.array(["x", "y", "z"])[y]
    assert m.roc_auc(names, proba[:, [2, 0, 1]], labels=["z", "x", "y"]) == pytest.approx(
        float(np.mean(expected)), rel=RTOL
    )


def test_two_probability_columns_are_binary(rng: np.random.Generator) -> None:
    y, s = _binary(rng)
    two = np.column_stack([1 - s, s])
    assert m.roc_auc(y, two) == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL)


@pytest.mark.parametrize(
    ("y", "labels", "match"),
    [
        (np.array([0, 1, 1, 0]), None, "columns"),
        (np.array([0, 1, 1, 0]), [0, 1, 2], "never occurs"),
        (np.array([0, 1, 5, 0]), [0, 1, 2], "not a listed class"),
    ],
)
def test_multiclass_rejects_inconsistent_classes(y, labels, match) -> None:
    proba = np.full((4, 3), 1 / 3)
    with pytest.raises(ValidationError, match=match):
        m.roc_auc(y, proba, labels=labels)


# --- curves --------------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("drop", [True, False])
def test_curves_equal_sklearn(rng: np.random.Generator, decimals, drop) -> None:
    y, s = _binary(rng, n=3000, decimals=decimals)
    for ours, theirs in zip(
        m.roc_curve(y, s, drop_intermediate=drop),
        skm.roc_curve(y, s, drop_intermediate=drop),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(
        m.precision_recall_curve(y, s, drop_intermediate=drop),
        skm.precision_recall_curve(y, s, drop_intermediate=drop),
        strict=True,
    ):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL)


def test_curves_downsample_to_at_most_n_points(rng: np.random.Generator) -> None:
    y, s = _binary(rng, n=20_000)
    fpr, tpr, thr = m.roc_curve(y, s, max_points=50)
    assert 2 < len(fpr) <= 50 and len(tpr) == len(thr) == len(fpr)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(thr) < 0)
    prec, rec, thr = m.precision_recall_curve(y, s, max_points=50)
    assert len(prec) <= 50 and len(thr) == len(prec) - 1
    assert (prec[-1], rec[-1]) == (1.0, 0.0)
    full_p, full_r, full_t = m.precision_recall_curve(y, s)
    # Thinned points are points of the full curve, thresholds still aligned.
    idx = np.searchsorted(full_t, thr)
    np.testing.assert_array_equal(full_p[idx], prec[:-1])
    np.testing.assert_array_equal(full_r[idx], rec[:-1])


def test_downsample_curve_edge_cases() -> None:
    x = np.linspace(0, 1, 10)
    np.testing.assert_array_equal(m.downsample_curve(x, x, None), np.arange(10))
    np.testing.assert_array_equal(m.downsample_curve(x, x, 20), np.arange(10))
    assert list(m.downsample_curve(np.zeros(10), np.zeros(10), 3)) == [0, 4, 9]
    with pytest.raises(ValidationError):
        m.downsample_curve(x, x, 1)


def test_sorted_scores_reuse(rng: np.random.Generator) -> None:
    y, s = _binary(rng, decimals=2)
    ranked = m.SortedScores.from_labels(y, s)
    assert ranked.n_positive + ranked.n_negative == len(y)
    assert ranked.roc_auc() == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL)
    tp, fp = ranked.counts_at([0.5])
    expected = skm.confusion_matrix(y, (s >= 0.5).astype(int))
    assert (int(tp[0]), int(fp[0])) == (expected[1, 1], expected[0, 1])
    by_constructor = m.SortedScores(s[y == 1], s[y == 0])
    assert by_constructor.average_precision() == pytest.approx(ranked.average_precision())


def test_large_binary_input_matches_sklearn(rng: np.random.Generator) -> None:
    y, s = _binary(rng, n=300_000, decimals=3)
    assert m.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-10)
    pred = (s >= 0.5).astype(np.int64)
    np.testing.assert_array_equal(m.confusion_matrix(y, pred), skm.confusion_matrix(y, pred))


# --- regression ----------------------------------------------------------------------


def test_regression_metrics_match_sklearn(rng: np.random.Generator) -> None:
    y = rng.normal(10, 3, 1000)
    p = y + rng.normal(0, 1, 1000)
    assert m.mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p), rel=RTOL)
    assert m.mse(y, p) == pytest.approx(skm.mean_squared_error(y, p), rel=RTOL)
    assert m.rmse(y, p) == pytest.approx(skm.root_mean_squared_error(y, p), rel=RTOL)
    assert m.r2(y, p) == pytest.approx(skm.r2_score(y, p), rel=RTOL)
    assert m.mape(y, p) == pytest.approx(skm.mean_absolute_percentage_error(y, p), rel=RTOL)


def test_regression_edge_cases() -> None:
    assert m.r2([2.0, 2.0], [2.0, 2.0]) == skm.r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert m.r2([2.0, 2.0], [1.0, 2.0]) == skm.r2_score([2.0, 2.0], [1.0, 2.0]) == 0.0
    assert m.mape([0.0, 1.0], [1.0, 1.0]) == skm.mean_absolute_percentage_error(
        [0.0, 1.0], [1.0, 1.0]
    )
    assert m.mae([1, 2, 3], [1, 2, 4]) == pytest.approx(1 / 3)  # integers are fine
    with pytest.raises(ValidationError, match="two rows"):
        m.r2([1.0], [1.0])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "field"),
    [
        ([1.0, 2.0], [1.0], "y_pred"),
        ([1.0, np.nan], [1.0, 2.0], "y_true"),
        (["a", "b"], [1.0, 2.0], "y_true"),
        ([], [], "y_true"),
    ],
)
def test_regression_rejects_bad_input(y_true, y_pred, field) -> None:
    with pytest.raises(ValidationError) as err:
        m.mse(y_true, y_pred)
    assert err.value.field == field
