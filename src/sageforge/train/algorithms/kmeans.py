"""SageMaker's K-Means: web-scale mini-batch k-means, then a local Lloyd's reduction to k.

SageMaker's algorithm runs mini-batch k-means with `k * extra_center_factor`
centers over the data, then reduces them to `k` with Lloyd's algorithm on the
centers weighted by their sizes. sageforge does the same with scikit-learn's
`MiniBatchKMeans` for the first stage and `KMeans` (sample-weighted) for the
second, under SageMaker's hyperparameter names. Differences, said plainly:

- `extra_center_factor=auto` means 2 (SageMaker picks its own value);
- `half_life_time_size` other than 0 (no decay, the default) is not supported:
  scikit-learn's mini-batch update has no decay; the job logs that it is ignored.

Metrics are `train:msd`/`train:ssd` and `test:msd`/`test:ssd` (mean and sum of
squared distances to the closest center), as `eval_metrics` selects.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import KMeans as _KMeans
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics.pairwise import euclidean_distances

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
    WordOr,
    check_feature_dim,
    check_same_features,
    decode_request,
    emit_metrics,
    feature_dim_param,
    load_saved_model,
    log,
    logged_warnings,
    metric_definitions,
    parse_name_list,
    read_channel,
    respond,
    save_model,
    seed_param,
    training_hyperparameters,
)

EVAL_METRICS = ("msd", "ssd")
_INIT = {"random": "random", "kmeans++": "k-means++"}

SPEC = HyperparameterSpec(
    [
        P("k", "int", required=True, low=1, tunable=False, help="Number of clusters."),
        feature_dim_param(),
        P("epochs", "int", default=1, low=1, help="Passes over the training data."),
        P("eval_metrics", "str", default='["msd"]', tunable=False, help="msd, ssd or both."),
        WordOr("extra_center_factor", "int", default="auto", low=1),
        P("half_life_time_size", "int", default=0, low=0, tunable=False),
        P("init_method", "categorical", default="random", choices=tuple(_INIT)),
        P("local_lloyd_init_method", "categorical", default="kmeans++", choices=tuple(_INIT)),
        P("local_lloyd_max_iter", "int", default=300, low=1),
        WordOr("local_lloyd_num_trials", "int", default="auto", low=1),
        P("local_lloyd_tol", "float", default=0.0001, low=0),
        P("mini_batch_size", "int", default=5000, low=1),
        seed_param(),
    ]
)


@register
class KMeans(Algorithm):
    """SageMaker's `kmeans`: clusters unlabelled rows into `k` groups."""

    name = "kmeans"
    title = "K-Means"
    hyperparameters = SPEC
    channels = (Channel("train", required=True), Channel("test"))
    content_types = TRAINING_CONTENT_TYPES
    inference_content_types = INFERENCE_CONTENT_TYPES
    inference_accept_types = ("application/json", "application/jsonlines", "text/csv")

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also parses `eval_metrics` into a list of metric names."""
        hp = super().validate_hyperparameters(raw)
        hp["eval_metrics"] = parse_name_list(hp["eval_metrics"], EVAL_METRICS, "eval_metrics")
        return hp

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """`train:` and `test:` msd/ssd, as `eval_metrics` selects."""
        names = hyperparameters.get("eval_metrics", EVAL_METRICS)
        return metric_definitions(("train", "test"), names)

    def train(self, env: TrainingEnvironment) -> None:
        """Mini-batch k-means with extra centers, reduced to `k` by weighted Lloyd's."""
        hp = training_hyperparameters(self, env)
        train = read_channel(env, "train", labelled=False, required=True)
        assert train is not None
        n_features = check_feature_dim(hp["feature_dim"], train)
        test = read_channel(env, "test", labelled=False)
        check_same_features(test, n_features, "test")
        n, k = train.X.shape[0], hp["k"]
        if k > n:
            raise AlgorithmError(f"k={k} is more than the {n} training rows; lower k")
        if hp["half_life_time_size"]:
            log("half_life_time_size: sageforge's mini-batch k-means has no decay; ignored")
        with logged_warnings():
            centers = _fit(train.X, hp)
        for channel, data in (("train", train), ("test", test)):
            if data is not None:
                squared = _closest(data.X, centers)[1]
                values = {"msd": float(squared.mean()), "ssd": float(squared.sum())}
                emit_metrics(channel, {m: values[m] for m in hp["eval_metrics"]})
        save_model(env.model_dir, self.name, {"centers": centers}, feature_dim=n_features, k=k)

    def load_model(self, model_dir: Path) -> SavedModel:
        """The `k` centers."""
        return load_saved_model(model_dir, self.name)

    def predict(
        self, model: SavedModel, body: bytes, content_type: str, accept: str
    ) -> tuple[bytes, str]:
        """`{"closest_cluster", "distance_to_cluster"}` per row (Euclidean distance)."""
        X = decode_request(body, content_type, model.feature_dim)
        cluster, squared = _closest(X, model.payload["centers"])
        records = [
            {"closest_cluster": float(c), "distance_to_cluster": float(np.sqrt(d))}
            for c, d in zip(cluster, squared, strict=True)
        ]
        return respond(records, accept)


def _fit(X: Features, hp: dict[str, Any]) -> np.ndarray:
    """The two stages; returns the `k` centers (k x features, float64)."""
    n, k, seed = X.shape[0], hp["k"], hp["seed"]
    factor = 2 if hp["extra_center_factor"] == "auto" else hp["extra_center_factor"]
    n_centers = min(k * factor, n)
    stage1 = MiniBatchKMeans(
        n_clusters=n_centers,
        init=_INIT[hp["init_method"]],
        batch_size=hp["mini_batch_size"],
        max_iter=hp["epochs"],
        n_init=1,
        random_state=seed,
    ).fit(X)
    log(f"mini-batch stage: {n_centers} centers after {stage1.n_iter_} epochs")
    counts = np.bincount(stage1.labels_, minlength=n_centers)
    used = counts > 0
    centers, weights = stage1.cluster_centers_[used], counts[used].astype(np.float64)
    trials = hp["local_lloyd_num_trials"]
    lloyd = _KMeans(
        n_clusters=k,
        init=_INIT[hp["local_lloyd_init_method"]],
        n_init="auto" if trials == "auto" else trials,
        max_iter=hp["local_lloyd_max_iter"],
        tol=hp["local_lloyd_tol"],
        random_state=seed,
    )
    if len(centers) > k:
        lloyd.fit(centers, sample_weight=weights)
        log(f"local Lloyd's: {len(centers)} centers reduced to {k}")
    else:
        # Too few distinct centers to reduce from: run Lloyd's on the data itself.
        lloyd.fit(X)
    return np.asarray(lloyd.cluster_centers_, dtype=np.float64)


def _closest(X: Features, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each row's closest center and the squared distance to it."""
    squared = euclidean_distances(X, centers, squared=True)
    cluster = squared.argmin(axis=1)
    return cluster, squared[np.arange(len(cluster)), cluster]
