"""Imports every built-in algorithm module so that each registers itself."""

from sageforge.train.algorithms import xgboost  # noqa: F401
