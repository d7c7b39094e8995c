"""Imports every built-in algorithm module so that each registers itself."""

# One import per line (not merged by isort), so that adding a built-in is a one-line change.
# ruff: noqa: I001

from sageforge.train.algorithms import xgboost_algorithm  # noqa: F401
from sageforge.train.algorithms import isolation_forest  # noqa: F401
from sageforge.train.algorithms import kmeans  # noqa: F401
from sageforge.train.algorithms import knn  # noqa: F401
from sageforge.train.algorithms import linear_learner  # noqa: F401
from sageforge.train.algorithms import pca  # noqa: F401
from sageforge.train.algorithms import random_forest  # noqa: F401
