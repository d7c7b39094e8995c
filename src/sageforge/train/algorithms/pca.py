"""SageMaker's PCA: principal components of the training data, and projections onto them.

As SageMaker's, `algorithm_mode=regular` is exact: it accumulates the
feature covariance over the data (in `mini_batch_size` row blocks, dense or
sparse) and takes its top eigenvectors; `randomized` uses a randomized SVD
(scikit-learn's `randomized_svd`, `extra_components` as its oversampling),
which scales to many features. `subtract_mean=false` decomposes the
uncentred second moment instead.

Metric: SageMaker's PCA emits none. sageforge emits its own
`train:explained_variance_ratio`, the share of the training data's variance
the kept components carry (as scikit-learn's `explained_variance_ratio_`
summed), so tuning jobs and Studio have something to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.extmath import randomized_svd

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import (
    Algorithm,
    AlgorithmError,
    Channel,
    MetricDefinition,
    TrainingEnvironment,
    register,
)
from sageforge.train.algorithms._hyperparameters import Hyperparameter as P
from sageforge.train.algorithms._hyperparameters import HyperparameterSpec
from sageforge.train.algorithms._sklearn_common import (
    INFERENCE_CONTENT_TYPES,
    TRAINING_CONTENT_TYPES,
    Features,
    SavedModel,
    check_feature_dim,
    decode_request,
    dense,
    emit_metric,
    feature_dim_param,
    load_saved_model,
    log,
    logged_warnings,
    metric_definition,
    read_channel,
    respond,
    save_model,
    seed_param,
    training_hyperparameters,
)

SPEC = HyperparameterSpec(
    [
        P("num_components", "int", required=True, low=1, help="Number of components to keep."),
        feature_dim_param(),
        P("mini_batch_size", "int", default=1000, low=1, tunable=False),
        P("algorithm_mode", "categorical", default="regular", choices=("regular", "randomized")),
        P("subtract_mean", "bool", default=True),
        P("extra_components", "int", default=-1, low=-1, help="Oversampling (randomized mode)."),
        seed_param(),
    ]
)


@register
class PCA(Algorithm):
    """SageMaker's `pca`: reduces rows to `num_components` principal-component coordinates."""

    name = "pca"
    title = "Principal Component Analysis"
    hyperparameters = SPEC
    channels = (Channel("train", required=True),)
    content_types = TRAINING_CONTENT_TYPES
    inference_content_types = INFERENCE_CONTENT_TYPES
    inference_accept_types = ("application/json", "application/jsonlines", "text/csv")

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also: `extra_components` only in randomized mode; no more components than features."""
        hp = super().validate_hyperparameters(raw)
        if hp["extra_components"] != -1 and hp["algorithm_mode"] != "randomized":
            raise ValidationError(
                "applies to algorithm_mode=randomized only; leave it -1 or switch the mode",
                field="hyper_parameters.extra_components",
            )
        if hp["feature_dim"] != "auto" and hp["num_components"] > hp["feature_dim"]:
            raise ValidationError(
                f"{hp['num_components']} components cannot exceed feature_dim "
                f"({hp['feature_dim']})",
                field="hyper_parameters.num_components",
            )
        return hp

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """sageforge's `train:explained_variance_ratio` (SageMaker's PCA has no metrics)."""
        return [metric_definition("train", "explained_variance_ratio")]

    def train(self, env: TrainingEnvironment) -> None:
        """Decompose, report the explained variance, save mean and components."""
        hp = training_hyperparameters(self, env)
        train = read_channel(env, "train", labelled=False, required=True)
        assert train is not None
        n_features = check_feature_dim(hp["feature_dim"], train)
        n, c = train.X.shape[0], hp["num_components"]
        if c > min(n, n_features):
            raise AlgorithmError(
                f"num_components={c} is more than the data allows (min of {n} rows and "
                f"{n_features} features); lower it"
            )
        with logged_warnings():
            if hp["algorithm_mode"] == "regular":
                mean, components, ratios = _regular(train.X, hp)
            else:
                mean, components, ratios = _randomized(train.X, hp)
        log("explained variance ratio per component: " + ", ".join(f"{r:.4g}" for r in ratios))
        emit_metric("train", "explained_variance_ratio", float(np.sum(ratios)))
        payload = {"mean": mean, "components": components, "explained_variance_ratio": ratios}
        save_model(env.model_dir, self.name, payload, feature_dim=n_features, num_components=c)

    def load_model(self, model_dir: Path) -> SavedModel:
        """The mean (zeros without `subtract_mean`) and the components."""
        return load_saved_model(model_dir, self.name)

    def predict(
        self, model: SavedModel, body: bytes, content_type: str, accept: str
    ) -> tuple[bytes, str]:
        """SageMaker's `{"projections": [{"projection": [...]}]}`; CSV rows of coordinates."""
        X = decode_request(body, content_type, model.feature_dim)
        projected = project(model.payload, X)
        records = [{"projection": [float(v) for v in row]} for row in projected]
        return respond(records, accept, key="projections")


def project(payload: Mapping[str, Any], X: Features) -> np.ndarray:
    """Coordinates of rows in the component basis: `(X - mean) @ components.T`."""
    components = payload["components"]
    return np.asarray(X @ components.T) - payload["mean"] @ components.T


def _regular(X: Features, hp: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact PCA from the covariance, accumulated in `mini_batch_size` row blocks.

    Dense data is centred block by block (a second pass) to keep precision when
    the mean is large against the spread; sparse rows stay sparse, so their
    covariance is the second moment minus the mean's outer product.
    """
    n, d = X.shape
    step = hp["mini_batch_size"]
    blocks = range(0, n, step)
    total = np.zeros(d)
    for start in blocks:
        total += np.asarray(X[start : start + step].sum(axis=0), dtype=np.float64).ravel()
    mean = total / n if hp["subtract_mean"] else np.zeros(d)
    moment = np.zeros((d, d))
    for start in blocks:
        block = X[start : start + step]
        if isinstance(block, np.ndarray):
            centred = block.astype(np.float64) - mean
            moment += centred.T @ centred
        else:
            block = block.astype(np.float64)  # float32 sums would cost digits
            moment += (block.T @ block).toarray()
    moment /= n
    if not isinstance(X, np.ndarray):
        moment -= np.outer(mean, mean)
    values, vectors = np.linalg.eigh(moment)
    order = np.argsort(values)[::-1][: hp["num_components"]]
    components = _flip_signs(vectors[:, order].T)
    trace = float(np.trace(moment))
    ratios = np.maximum(values[order], 0.0) / trace if trace > 0 else np.zeros(len(order))
    return mean, components, ratios


def _randomized(X: Features, hp: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Randomized SVD of the (centred) data; sparse data is densified to centre it."""
    d = X.shape[1]
    if hp["subtract_mean"]:
        data = dense(X).astype(np.float64)
        mean = data.mean(axis=0)
        data -= mean
        total = float(np.square(data).sum())
    else:
        data = X.astype(np.float64)
        mean = np.zeros(d)
        squares = np.square(data).sum() if isinstance(data, np.ndarray) else data.power(2).sum()
        total = float(squares)
    oversample = 10 if hp["extra_components"] == -1 else hp["extra_components"]
    _, singular, vt = randomized_svd(
        data, hp["num_components"], n_oversamples=oversample, random_state=hp["seed"]
    )
    ratios = np.square(singular) / total if total > 0 else np.zeros(len(singular))
    return mean, _flip_signs(vt), ratios


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make each component's largest-magnitude entry positive, so results are reproducible."""
    pivots = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), pivots])
    signs[signs == 0] = 1.0
    return components * signs[:, None]
