from __future__ import annotations

import pytest

from sageforge.core.errors import ValidationError
from sageforge.core.names import NAME_RE, make_arn, unique_name, validate_name, validate_tags


@pytest.mark.parametrize("name", ["a", "job-1", "A9", "a--b", "x" * 63])
def test_valid_names(name: str) -> None:
    assert validate_name(name, "f") == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "a_b", "a b", "x" * 64, "é"])
def test_invalid_names_name_the_field(name: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_name(name, "training_job_name")
    assert err.value.field == "training_job_name"


def test_arn_is_sagemakers_form() -> None:
    assert (
        make_arn("training-job", "My-Job")
        == "arn:aws:sagemaker:us-east-1:000000000000:training-job/my-job"
    )


def test_unique_names_are_valid_and_distinct() -> None:
    names = {unique_name("my_script.v2" * 10) for _ in range(3)}
    assert all(NAME_RE.match(n) and len(n) <= 63 for n in names)


def test_tags() -> None:
    assert validate_tags([{"Key": "team", "Value": "ml"}, {"key": "env", "value": ""}]) == {
        "team": "ml",
        "env": "",
    }
    with pytest.raises(ValidationError, match="reserved"):
        validate_tags([{"key": "aws:x", "value": "1"}])
    with pytest.raises(ValidationError) as err:
        validate_tags([{"key": "", "value": "1"}])
    assert err.value.field == "tags[0].key"
