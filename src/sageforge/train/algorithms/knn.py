"""SageMaker's k-nearest-neighbours: classify or regress from the `k` closest training rows.

As SageMaker's, training keeps a random sample of `sample_size` labelled rows,
optionally reduced in dimension, as an index; a prediction is the most common
label (classifier) or the mean label (regressor) of the `k` nearest rows.
Where sageforge differs:

- The index is scikit-learn's `NearestNeighbors`, and every search is exact:
  `faiss.Flat` maps to brute force, `faiss.IVFFlat`/`faiss.IVFPQ` to
  scikit-learn's `auto` choice (a tree where the metric allows one), so
  `faiss_index_ivf_nlists` and `faiss_index_pq_m` have nothing to tune.
- `INNER_PRODUCT` is answered exactly through the classic reduction of
  maximum-inner-product search to Euclidean search (each indexed row gets one
  extra coordinate `sqrt(M² - |x|²)`, queries get 0).
- `dimension_reduction_type=sign` is a dense random-sign projection;
  `fjlt` is a Gaussian random projection standing in for the fast JL transform.

Metrics: `test:accuracy` (classifier) or `test:mse` (regressor) on a `test` channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.neighbors import NearestNeighbors
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import (
    Algorithm,
    AlgorithmError,
    Channel,
    MetricDefinition,
    TrainingEnvironment,
    register,
)
from sageforge.train.algorithms._codecs import split_content_type
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

INDEX_TYPES = ("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ")
_METRIC = {"L2": "euclidean", "COSINE": "cosine", "INNER_PRODUCT": "euclidean"}
_TEST_METRIC = {"classifier": "accuracy", "regressor": "mse"}

SPEC = HyperparameterSpec(
    [
        P("k", "int", required=True, low=1, high=1024, help="Neighbours consulted."),
        P("predictor_type", "categorical", required=True, choices=tuple(_TEST_METRIC)),
        P("sample_size", "int", required=True, low=1, help="Training rows kept in the index."),
        feature_dim_param(),
        P("dimension_reduction_type", "categorical", choices=("sign", "fjlt"), tunable=False),
        P("dimension_reduction_target", "int", low=1, tunable=False),
        P("index_type", "categorical", default="faiss.Flat", choices=INDEX_TYPES),
        P("index_metric", "categorical", default="L2", choices=tuple(_METRIC)),
        WordOr("faiss_index_ivf_nlists", "int", default="auto", low=1, tunable=False),
        P("faiss_index_pq_m", "int", low=1, tunable=False),
        P("mini_batch_size", "int", default=5000, low=1, tunable=False),
        seed_param(),
    ]
)


@register
class KNN(Algorithm):
    """SageMaker's `knn`: nearest-neighbour classification or regression."""

    name = "knn"
    title = "k-Nearest Neighbors"
    hyperparameters = SPEC
    channels = (Channel("train", required=True), Channel("test"))
    content_types = TRAINING_CONTENT_TYPES
    inference_content_types = INFERENCE_CONTENT_TYPES
    inference_accept_types = ("application/json", "application/jsonlines", "text/csv")

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also: dimension reduction needs both its type and target; PQ settings need IVFPQ."""
        hp = super().validate_hyperparameters(raw)
        has_type = "dimension_reduction_type" in hp
        if has_type != ("dimension_reduction_target" in hp):
            missing = "target" if has_type else "type"
            raise ValidationError(
                "dimension_reduction_type and dimension_reduction_target go together",
                field=f"hyper_parameters.dimension_reduction_{missing}",
            )
        dim = hp["feature_dim"]
        if has_type and dim != "auto" and hp["dimension_reduction_target"] >= dim:
            raise ValidationError(
                f"must be below feature_dim ({dim})",
                field="hyper_parameters.dimension_reduction_target",
            )
        if "faiss_index_pq_m" in hp and hp["index_type"] != "faiss.IVFPQ":
            raise ValidationError(
                "applies to index_type=faiss.IVFPQ only", field="hyper_parameters.faiss_index_pq_m"
            )
        if hp["k"] > hp["sample_size"]:
            raise ValidationError(
                f"k={hp['k']} cannot exceed sample_size ({hp['sample_size']})",
                field="hyper_parameters.k",
            )
        return hp

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """`test:accuracy` for classifiers, `test:mse` for regressors."""
        kind = hyperparameters.get("predictor_type")
        kinds = [kind] if kind else list(_TEST_METRIC)
        return [metric_definition("test", _TEST_METRIC[k]) for k in kinds]

    def train(self, env: TrainingEnvironment) -> None:
        """Sample, reduce, index; score the optional test channel; save the index."""
        hp = training_hyperparameters(self, env)
        train = read_channel(env, "train", labelled=True, required=True)
        assert train is not None and train.y is not None
        n_features = check_feature_dim(hp["feature_dim"], train)
        test = read_channel(env, "test", labelled=True)
        check_same_features(test, n_features, "test")
        n = train.X.shape[0]
        rng = np.random.default_rng(hp["seed"])
        size = min(n, hp["sample_size"])
        if size < hp["sample_size"]:
            log(f"sample_size {hp['sample_size']} exceeds the {n} training rows; keeping all")
        rows = np.sort(rng.choice(n, size=size, replace=False))
        if hp["k"] > size:
            raise AlgorithmError(f"k={hp['k']} is more than the {size} rows in the index")
        X, labels = train.X[rows], np.asarray(train.y[rows], dtype=np.float64)
        with logged_warnings():
            payload = _build_index(X, labels, hp, n_features)
        log(f"indexed {size} rows with {payload['index'].n_features_in_} features")
        if test is not None:
            assert test.y is not None
            predicted = _predict(payload, test.X)[0]
            if hp["predictor_type"] == "classifier":
                emit_metric("test", "accuracy", accuracy_score(test.y, predicted))
            else:
                emit_metric("test", "mse", mean_squared_error(test.y, predicted))
        save_model(
            env.model_dir,
            self.name,
            payload,
            feature_dim=n_features,
            predictor_type=hp["predictor_type"],
            k=hp["k"],
            index_metric=hp["index_metric"],
        )

    def load_model(self, model_dir: Path) -> SavedModel:
        """The index, its labels and the projection."""
        return load_saved_model(model_dir, self.name)

    def predict(
        self, model: SavedModel, body: bytes, content_type: str, accept: str
    ) -> tuple[bytes, str]:
        """`{"predicted_label": …}` per row; with `Accept: application/json; verbose=true`
        also the neighbours' `labels` and `distances` (similarities for INNER_PRODUCT)."""
        X = decode_request(body, content_type, model.feature_dim)
        predicted, distances, neighbours = _predict(model.payload, X)
        verbose = split_content_type(accept)[1].get("verbose", "").lower() in ("true", "1")
        records: list[dict[str, Any]] = []
        for i, label in enumerate(predicted):
            record: dict[str, Any] = {"predicted_label": float(label)}
            if verbose:
                record["distances"] = [float(d) for d in distances[i]]
                record["labels"] = [float(v) for v in neighbours[i]]
            records.append(record)
        return respond(records, accept, csv_fields=("predicted_label",))


def _build_index(
    X: Features, labels: np.ndarray, hp: dict[str, Any], n_features: int
) -> dict[str, Any]:
    projection = None
    if "dimension_reduction_type" in hp:
        target = hp["dimension_reduction_target"]
        if target >= n_features:
            raise AlgorithmError(
                f"dimension_reduction_target={target} must be below the {n_features} features"
            )
        if hp["dimension_reduction_type"] == "sign":
            projection = SparseRandomProjection(target, density=1.0, random_state=hp["seed"])
        else:
            projection = GaussianRandomProjection(target, random_state=hp["seed"])
        X = projection.fit_transform(X)
    points = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    max_norm = 0.0
    if hp["index_metric"] == "INNER_PRODUCT":
        norms = np.square(points).sum(axis=1)
        max_norm = float(norms.max())
        points = np.column_stack([points, np.sqrt(np.maximum(max_norm - norms, 0.0))])
    exact = hp["index_type"] == "faiss.Flat" or hp["index_metric"] == "COSINE"
    index = NearestNeighbors(
        n_neighbors=hp["k"],
        algorithm="brute" if exact else "auto",
        metric=_METRIC[hp["index_metric"]],
    ).fit(points)
    return {
        "index": index,
        "labels": labels,
        "projection": projection,
        "inner_product": hp["index_metric"] == "INNER_PRODUCT",
        "max_norm": max_norm,
        "kind": hp["predictor_type"],
        "k": hp["k"],
        "batch": hp["mini_batch_size"],
    }


def _predict(payload: Mapping[str, Any], X: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted labels, neighbour distances and neighbour labels, `batch` rows at a time."""
    if payload["projection"] is not None:
        X = payload["projection"].transform(X)
    queries = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    if payload["inner_product"]:
        queries = np.column_stack([queries, np.zeros(len(queries))])
    parts = [
        payload["index"].kneighbors(queries[i : i + payload["batch"]], n_neighbors=payload["k"])
        for i in range(0, len(queries), payload["batch"])
    ]
    distances = np.concatenate([d for d, _ in parts])
    neighbours = payload["labels"][np.concatenate([i for _, i in parts])]
    if payload["inner_product"]:
        # |q - x'|² = |q|² + M² - 2 q·x, so the inner product is recovered exactly.
        q2 = np.square(queries).sum(axis=1, keepdims=True)
        distances = (q2 + payload["max_norm"] - np.square(distances)) / 2.0
    if payload["kind"] == "classifier":
        predicted = stats.mode(neighbours, axis=1, keepdims=False).mode
    else:
        predicted = neighbours.mean(axis=1)
    return np.asarray(predicted, dtype=np.float64), distances, neighbours
