"""Image URIs the SageMaker SDK computes → the sageforge runtime that plays the container."""

from __future__ import annotations

import pytest

from sageforge.compat import AwsError
from sageforge.compat.sagemaker import parse_image, resolve_image


@pytest.mark.parametrize(
    ("uri", "repo", "tag"),
    [
        (
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "sagemaker-xgboost",
            "1.7-1",
        ),
        ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest", "xgboost", "latest"),
        ("433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:1", "xgboost", "1"),
        (
            "390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/linear-learner:1",
            "linear-learner",
            "1",
        ),
        ("sagemaker-scikit-learn:1.2-1-cpu-py3", "sagemaker-scikit-learn", "1.2-1-cpu-py3"),
        ("localhost:5000/kmeans", "kmeans", "latest"),
        ("123.dkr.ecr.us-east-1.amazonaws.com/pca@sha256:abc", "pca", "latest"),
    ],
)
def test_parse_image(uri: str, repo: str, tag: str) -> None:
    assert parse_image(uri) == (repo, tag)


@pytest.mark.parametrize(
    ("repo", "algorithm"),
    [
        ("sagemaker-xgboost:1.7-1", "xgboost"),
        ("xgboost:1", "xgboost"),
        ("linear-learner:1", "linear-learner"),
        ("kmeans:1", "kmeans"),
        ("knn:1", "knn"),
        ("pca:1", "pca"),
        ("randomcutforest:1", "isolation-forest"),
    ],
)
def test_builtin_images(repo: str, algorithm: str) -> None:
    runtime = resolve_image(
        f"382416733822.dkr.ecr.us-east-1.amazonaws.com/{repo}", script=False, field="f"
    )
    assert runtime.algorithm == algorithm and not runtime.script_mode


def test_xgboost_image_is_script_mode_when_a_program_is_named() -> None:
    uri = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert resolve_image(uri, script=True, field="f").framework == "xgboost"
    assert resolve_image(uri, script=False, field="f").algorithm == "xgboost"
    sklearn = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    assert resolve_image(sklearn, script=True, field="f").framework == "sklearn"


def test_unknown_and_scriptless_images_are_validation_errors_listing_the_supported() -> None:
    with pytest.raises(AwsError) as unknown:
        resolve_image(
            "1234.dkr.ecr.us-east-1.amazonaws.com/my-byoc:latest", script=False, field="X.Image"
        )
    assert unknown.value.code == "ValidationException"
    assert "X.Image" in unknown.value.message and "my-byoc" in unknown.value.message
    for supported in ("sagemaker-xgboost", "linear-learner", "sagemaker-scikit-learn"):
        assert supported in unknown.value.message
    with pytest.raises(AwsError) as scriptless:
        resolve_image("sagemaker-scikit-learn:1.2-1-cpu-py3", script=False, field="X.Image")
    assert "SAGEMAKER_PROGRAM" in scriptless.value.message
