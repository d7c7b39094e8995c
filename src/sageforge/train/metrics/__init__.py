"""Evaluation metrics: pure NumPy, exact, and fast on millions of rows.

Every function agrees with its scikit-learn namesake (`roc_auc` with
`roc_auc_score`, `pr_auc` with `average_precision_score`, `mape` with
`mean_absolute_percentage_error` ...) and raises
`sageforge.core.errors.ValidationError` naming the argument at fault instead
of warning and returning NaN. Only NumPy is imported.
"""

from sageforge.train.metrics._classification import (
    Average,
    accuracy,
    balanced_accuracy,
    f1,
    fbeta,
    log_loss,
    precision,
    precision_recall_fscore,
    recall,
    scores_from_confusion,
)
from sageforge.train.metrics._confusion import confusion_matrix, unique_labels
from sageforge.train.metrics._curves import downsample_curve
from sageforge.train.metrics._ranking import (
    RankAverage,
    pr_auc,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from sageforge.train.metrics._regression import mae, mape, mse, r2, rmse
from sageforge.train.metrics._sorted_scores import SortedScores

__all__ = [
    "Average",
    "RankAverage",
    "SortedScores",
    "accuracy",
    "balanced_accuracy",
    "confusion_matrix",
    "downsample_curve",
    "f1",
    "fbeta",
    "log_loss",
    "mae",
    "mape",
    "mse",
    "pr_auc",
    "precision",
    "precision_recall_curve",
    "precision_recall_fscore",
    "r2",
    "recall",
    "rmse",
    "roc_auc",
    "roc_curve",
    "scores_from_confusion",
    "unique_labels",
]
