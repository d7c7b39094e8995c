"""Container images → what sageforge runs instead.

The SageMaker SDK computes an ECR URI for every job and model
(`683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1`); no
container runs here, so the repository name says which sageforge runtime
plays the container: a built-in algorithm, or script mode with a framework's
libraries. `sagemaker-xgboost` is both, as in SageMaker: it runs the user's
script when the `sagemaker_program` hyperparameter (or, for a model, the
`SAGEMAKER_PROGRAM` variable) names one, and the built-in algorithm otherwise.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from sageforge.compat._errors import AwsError, validation

BUILTINS: dict[str, str] = {
    "xgboost": "xgboost",  # the legacy 0.72 container (`xgboost:1`, `xgboost:latest`)
    "sagemaker-xgboost": "xgboost",
    "linear-learner": "linear-learner",
    "kmeans": "kmeans",
    "knn": "knn",
    "pca": "pca",
    "randomcutforest": "isolation-forest",  # the role of RCF; scores differ (see the algorithm)
}
"""Repositories of SageMaker's built-in algorithms → sageforge's built-in of the same role."""

FRAMEWORKS: dict[str, tuple[str, str]] = {
    "sagemaker-xgboost": ("xgboost", "xgboost"),
    "sagemaker-scikit-learn": ("sklearn", "sklearn"),
    "pytorch-training": ("pytorch", "torch"),
    "pytorch-inference": ("pytorch", "torch"),
    "tensorflow-training": ("tensorflow", "tensorflow"),
    "tensorflow-inference": ("tensorflow", "tensorflow"),
    "sagemaker-base-python": ("python", "json"),
}
"""Script-mode repositories → (framework, the module its scripts need importable)."""


@dataclass(frozen=True)
class Runtime:
    """What an image means here: a built-in's name, or script mode with a framework."""

    repository: str
    tag: str
    algorithm: str | None = None
    framework: str | None = None

    @property
    def script_mode(self) -> bool:
        return self.framework is not None


def parse_image(uri: str) -> tuple[str, str]:
    """(repository, tag) of an image URI: registry host and digest or tag peeled off."""
    rest = uri.strip()
    first, sep, tail = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        rest = tail  # a registry host: <account>.dkr.ecr.<region>.amazonaws.com
    rest = rest.split("@", 1)[0]
    repo, _, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "")
    return repo.lower(), tag or "latest"


def resolve_image(uri: str, *, script: bool, field: str) -> Runtime:
    """The runtime for `uri`; `script` says the request names a user script.

    Raises ValidationException naming `field` and the supported repositories
    for an image sageforge cannot stand in for.
    """
    repo, tag = parse_image(uri)
    name = repo.rsplit("/", 1)[-1]
    if script and name in FRAMEWORKS:
        framework, module = FRAMEWORKS[name]
        if importlib.util.find_spec(module) is None:
            raise validation(
                f"{field}: the image {uri} runs {framework} scripts, but {module} is not "
                f"installed on this sageforge server; install it into sageforge's environment"
            )
        return Runtime(repo, tag, framework=framework)
    if name in BUILTINS:
        return Runtime(repo, tag, algorithm=BUILTINS[name])
    if name in FRAMEWORKS:
        raise validation(
            f"{field}: the image {uri} is a framework container; it needs a script "
            "(the sagemaker_program hyperparameter or the SAGEMAKER_PROGRAM environment variable)"
        )
    raise unsupported(uri, field)


def unsupported(uri: str, field: str) -> AwsError:
    return validation(
        f"{field}: sageforge runs no container images; it cannot stand in for {uri}. Supported "
        f"repositories: built-in algorithms {', '.join(sorted(BUILTINS))}; script mode "
        f"{', '.join(sorted(FRAMEWORKS))}"
    )
