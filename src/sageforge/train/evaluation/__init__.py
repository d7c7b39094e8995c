"""Model evaluation: the evaluation.json a training job writes, and its HTML report.

`evaluate` turns truth and predictions into a JSON-ready dict in SageMaker
Model Monitor's model-quality shape; `write_report` renders that dict as one
self-contained HTML file with Plotly charts that work offline.
"""

from sageforge.train.evaluation._evaluate import (
    CURVE_POINTS,
    SAMPLE_POINTS,
    THRESHOLDS,
    ProblemType,
    evaluate,
    evaluate_classification,
    evaluate_regression,
    infer_problem_type,
)
from sageforge.train.evaluation._report import write_report

__all__ = [
    "CURVE_POINTS",
    "SAMPLE_POINTS",
    "THRESHOLDS",
    "ProblemType",
    "evaluate",
    "evaluate_classification",
    "evaluate_regression",
    "infer_problem_type",
    "write_report",
]
