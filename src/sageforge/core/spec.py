"""Request shapes shared by every resource: SageMaker's structures in snake_case.

Every model forbids unknown fields, so a typo in a request is a 400 naming the
field instead of a setting silently ignored.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_RUNTIME_LIMIT_S = 28 * 24 * 3600
"""SageMaker's ceiling on MaxRuntimeInSeconds (28 days)."""


class Spec(BaseModel):
    """Base of request models: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TagSpec(Spec):
    """A resource tag."""

    key: Annotated[str, Field(min_length=1, max_length=128)]
    value: Annotated[str, Field(max_length=256)] = ""


class StoppingCondition(Spec):
    """How long a job may run before it is stopped (SIGTERM, grace, SIGKILL)."""

    max_runtime_in_seconds: Annotated[int, Field(ge=1, le=MAX_RUNTIME_LIMIT_S)] = 86400
    max_wait_time_in_seconds: Annotated[int | None, Field(ge=1)] = None


class MetricDefinitionSpec(Spec):
    """A metric scraped from the job log: the regex's first group is the value."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    regex: Annotated[str, Field(min_length=1, max_length=500)]

    @field_validator("regex")
    @classmethod
    def _compiles_with_a_group(cls, v: str) -> str:
        try:
            pattern = re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        if pattern.groups < 1:
            raise ValueError("needs a capturing group around the metric's value")
        return v
