"""Automatic model tuning: hyperparameter tuning jobs whose trials are training jobs."""

from sageforge.tune._ranges import ParameterRange, parse_range, ranges_from_spec, ranges_to_spec

__all__ = ["ParameterRange", "parse_range", "ranges_from_spec", "ranges_to_spec"]
