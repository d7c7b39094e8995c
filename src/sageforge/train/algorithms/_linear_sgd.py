"""Mini-batch gradient descent on a linear model: the engine under `linear-learner`.

SageMaker's linear learner fits `X @ W + b` by mini-batch SGD with a choice of
loss (logistic, hinge, softmax, squared, absolute, Huber, quantile,
epsilon-insensitive) and optimizer (SGD with momentum, Adam, RMSProp).
scikit-learn's `SGDClassifier` steps once per example, has no softmax
multi-class and no Adam, so it cannot honour `mini_batch_size`, `optimizer` or
`loss=softmax_loss`; this module does, in NumPy, on dense arrays and CSR alike.

Normalization never copies the data: training runs on `(x - center) * inv_scale`
by folding the shift and scale into the product, and `fit` returns weights in
the original feature (and label) space, so inference is a plain `X @ W + b`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse
from scipy.special import expit, logsumexp

CLASSIFICATION_LOSSES = ("logistic", "hinge_loss", "softmax_loss")
REGRESSION_LOSSES = (
    "squared_loss",
    "absolute_loss",
    "eps_insensitive_squared_loss",
    "eps_insensitive_absolute_loss",
    "quantile_loss",
    "huber_loss",
)

Features: TypeAlias = np.ndarray | scipy.sparse.csr_matrix


@dataclass(frozen=True)
class LossParams:
    """The constants some losses take."""

    margin: float = 1.0
    huber_delta: float = 1.0
    quantile: float = 0.5
    insensitivity: float = 0.01


@dataclass(frozen=True)
class SGDConfig:
    """How to descend: SageMaker's optimizer hyperparameters, resolved (no `auto` left)."""

    loss: str
    n_outputs: int
    epochs: int = 15
    batch_size: int = 1000
    optimizer: str = "adam"
    learning_rate: float = 0.01
    momentum: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    l1: float = 0.0
    wd: float = 0.0
    bias_lr_mult: float = 1.0
    bias_wd_mult: float = 0.0
    use_bias: bool = True
    init_method: str = "uniform"
    init_scale: float = 0.07
    init_sigma: float = 0.01
    init_bias: float = 0.0
    use_lr_scheduler: bool = True
    lr_scheduler_step: int = 100
    lr_scheduler_factor: float = 0.99
    lr_scheduler_minimum_lr: float = 1e-5
    early_stopping_patience: int = 3
    early_stopping_tolerance: float = 0.001
    seed: int = 0
    loss_params: LossParams = LossParams()


@dataclass
class LinearModel:
    """`X @ weights + bias`: weights (features x outputs) in the original feature space."""

    weights: np.ndarray
    bias: np.ndarray

    def margins(self, X: Features) -> np.ndarray:
        """Raw outputs, one row per example and one column per output."""
        return np.asarray(X @ self.weights) + self.bias


def loss_and_gradient(
    loss: str, z: np.ndarray, y: np.ndarray, p: LossParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per-example loss and its gradient with respect to the margins `z` (n x outputs).

    Binary labels are 0/1, multi-class labels class indices, regression labels values.
    """
    if loss == "softmax_loss":
        rows = np.arange(len(y))
        idx = y.astype(np.int64)
        lse = logsumexp(z, axis=1)
        grad = np.exp(z - lse[:, None])
        grad[rows, idx] -= 1.0
        return lse - z[rows, idx], grad
    zz = z[:, 0]
    if loss == "logistic":
        sign = 2.0 * y - 1.0
        return np.logaddexp(0.0, -sign * zz), (expit(zz) - y)[:, None]
    if loss == "hinge_loss":
        sign = 2.0 * y - 1.0
        slack = p.margin - sign * zz
        return np.maximum(slack, 0.0), np.where(slack > 0, -sign, 0.0)[:, None]
    r = zz - y
    if loss == "squared_loss":
        return r * r, (2.0 * r)[:, None]
    if loss == "absolute_loss":
        return np.abs(r), np.sign(r)[:, None]
    if loss == "huber_loss":
        d = p.huber_delta
        a = np.abs(r)
        value = np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))
        return value, np.clip(r, -d, d)[:, None]
    if loss == "quantile_loss":
        q = p.quantile
        u = -r
        return np.maximum(q * u, (q - 1.0) * u), np.where(u > 0, -q, 1.0 - q)[:, None]
    excess = np.maximum(np.abs(r) - p.insensitivity, 0.0)
    if loss == "eps_insensitive_squared_loss":
        return excess * excess, (2.0 * excess * np.sign(r))[:, None]
    if loss == "eps_insensitive_absolute_loss":
        return excess, ((excess > 0) * np.sign(r))[:, None]
    raise ValueError(f"unknown loss {loss!r}")


class _Optimizer:
    """One optimizer state per parameter array (weights, bias)."""

    def __init__(self, cfg: SGDConfig) -> None:
        self.cfg = cfg
        self.t = 0
        self.state: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def step(self, slot: int, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        cfg = self.cfg
        m, v = self.state.get(slot) or (np.zeros_like(param), np.zeros_like(param))
        if cfg.optimizer == "adam":
            m = cfg.beta_1 * m + (1 - cfg.beta_1) * grad
            v = cfg.beta_2 * v + (1 - cfg.beta_2) * grad * grad
            m_hat = m / (1 - cfg.beta_1**self.t)
            v_hat = v / (1 - cfg.beta_2**self.t)
            param -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        elif cfg.optimizer == "rmsprop":
            v = 0.9 * v + 0.1 * grad * grad
            param -= lr * grad / (np.sqrt(v) + 1e-8)
        else:
            m = cfg.momentum * m - lr * grad
            param += m
        self.state[slot] = (m, v)


DEFAULT_LEARNING_RATE = {"adam": 0.1, "rmsprop": 0.05, "sgd": 0.1}


def config_from_hyperparameters(hp: Mapping[str, Any], *, loss: str, n_outputs: int) -> SGDConfig:
    """The linear learner's validated hyperparameters, every `auto` resolved to sageforge's choice.

    `auto` optimizer is Adam; `auto` learning rates are `DEFAULT_LEARNING_RATE`
    (high for Adam because data is normalized and mini-batches are few on small
    data); `auto` momentum 0.9; `auto` l1, wd and bias weight decay 0.
    """
    optimizer = "adam" if hp["optimizer"] == "auto" else hp["optimizer"]

    def resolved(name: str, auto: float) -> float:
        return auto if hp[name] == "auto" else float(hp[name])

    return SGDConfig(
        loss=loss,
        n_outputs=n_outputs,
        epochs=hp["epochs"],
        batch_size=hp["mini_batch_size"],
        optimizer=optimizer,
        learning_rate=resolved("learning_rate", DEFAULT_LEARNING_RATE[optimizer]),
        momentum=resolved("momentum", 0.9),
        beta_1=hp["beta_1"],
        beta_2=hp["beta_2"],
        l1=resolved("l1", 0.0),
        wd=resolved("wd", 0.0),
        bias_lr_mult=resolved("bias_lr_mult", 1.0),
        bias_wd_mult=resolved("bias_wd_mult", 0.0),
        use_bias=hp["use_bias"],
        init_method=hp["init_method"],
        init_scale=hp["init_scale"],
        init_sigma=hp["init_sigma"],
        init_bias=hp["init_bias"],
        use_lr_scheduler=hp["use_lr_scheduler"],
        lr_scheduler_step=hp["lr_scheduler_step"],
        lr_scheduler_factor=hp["lr_scheduler_factor"],
        lr_scheduler_minimum_lr=hp["lr_scheduler_minimum_lr"],
        early_stopping_patience=hp["early_stopping_patience"],
        early_stopping_tolerance=hp["early_stopping_tolerance"],
        seed=hp["seed"],
        loss_params=LossParams(
            margin=hp["margin"],
            huber_delta=hp["huber_delta"],
            quantile=hp["quantile"],
            insensitivity=hp["loss_insensitivity"],
        ),
    )


def _initial_weights(cfg: SGDConfig, n_features: int, rng: np.random.Generator) -> np.ndarray:
    shape = (n_features, cfg.n_outputs)
    if cfg.init_method == "normal":
        return rng.normal(0.0, cfg.init_sigma, size=shape)
    return rng.uniform(-cfg.init_scale, cfg.init_scale, size=shape)


def fit(
    X: Features,
    y: np.ndarray,
    cfg: SGDConfig,
    *,
    sample_weight: np.ndarray | None = None,
    center: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    label_shift: float = 0.0,
    label_scale: float = 1.0,
    evaluate: Callable[[int, LinearModel], float],
) -> tuple[LinearModel, int]:
    """Train and return the best model (by `evaluate`'s loss) and the epoch it came from.

    `evaluate(epoch, model)` is called after every epoch with the model in the
    original space; it reports whatever it likes and returns the loss that
    early stopping watches (validation loss when there is a validation set).
    Training stops when that loss has not improved by the relative tolerance
    for `early_stopping_patience` epochs.
    """
    n, d = X.shape
    rng = np.random.default_rng(cfg.seed)
    center = np.zeros(d) if center is None else np.asarray(center, dtype=np.float64)
    inv = 1.0 / (np.ones(d) if scale is None else np.asarray(scale, dtype=np.float64))
    shift = center * inv
    target = (np.asarray(y, dtype=np.float64) - label_shift) / label_scale
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    W = _initial_weights(cfg, d, rng)
    b = np.full(cfg.n_outputs, cfg.init_bias if cfg.use_bias else 0.0)
    opt = _Optimizer(cfg)

    def export() -> LinearModel:
        weights = W * inv[:, None] * label_scale
        bias = (b - shift @ W) * label_scale + label_shift
        return LinearModel(weights, bias)

    best, best_epoch, best_loss, reference, stale = export(), 0, np.inf, np.inf, 0
    for epoch in range(cfg.epochs):
        order = rng.permutation(n)
        for start in range(0, n, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            Xb = X[idx]
            z = np.asarray(Xb @ (W * inv[:, None])) + (b - shift @ W)
            _, G = loss_and_gradient(cfg.loss, z, target[idx], cfg.loss_params)
            G = G * sw[idx, None]
            total = max(float(sw[idx].sum()), 1e-12)
            col_sum = G.sum(axis=0)
            grad_w = (inv[:, None] * np.asarray(Xb.T @ G) - np.outer(shift, col_sum)) / total
            grad_w += cfg.wd * W
            opt.t += 1
            lr = cfg.learning_rate
            if cfg.use_lr_scheduler:
                decay = cfg.lr_scheduler_factor ** (opt.t // cfg.lr_scheduler_step)
                lr = max(lr * decay, cfg.lr_scheduler_minimum_lr)
            opt.step(0, W, grad_w, lr)
            if cfg.l1 > 0:
                W[:] = np.sign(W) * np.maximum(np.abs(W) - lr * cfg.l1, 0.0)
            if cfg.use_bias:
                grad_b = col_sum / total + cfg.wd * cfg.bias_wd_mult * b
                opt.step(1, b, grad_b, lr * cfg.bias_lr_mult)
        model = export()
        loss = evaluate(epoch, model)
        if loss < best_loss:
            best, best_epoch, best_loss = model, epoch, loss
        if not np.isfinite(reference) or loss < reference - cfg.early_stopping_tolerance * abs(
            reference
        ):
            reference, stale = loss, 0
        else:
            stale += 1
            if stale >= cfg.early_stopping_patience:
                break
    return best, best_epoch


def feature_scaler(X: Features, *, max_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation from a sample of up to `max_rows` rows.

    SageMaker's `num_point_for_scaler`: a sample is enough to scale by, and
    keeps the cost independent of the data size. Constant features scale by 1.
    """
    n = X.shape[0]
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(n, max_rows), replace=False))
    sample = X[rows]
    mean = np.asarray(sample.mean(axis=0), dtype=np.float64).ravel()
    if isinstance(sample, np.ndarray):
        std = np.asarray(sample, dtype=np.float64).std(axis=0)
    else:
        mean_sq = np.asarray(sample.power(2).mean(axis=0), dtype=np.float64).ravel()
        std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    std[std < 1e-12] = 1.0
    return mean, std


def label_scaler(y: np.ndarray, *, center: bool) -> tuple[float, float]:
    """Shift and scale that standardize regression labels (the shift is 0 without `center`)."""
    y64 = np.asarray(y, dtype=np.float64)
    spread = float(y64.std())
    return (float(y64.mean()) if center else 0.0), (spread if spread > 1e-12 else 1.0)


def best_threshold(
    scores: np.ndarray,
    y: np.ndarray,
    criterion: str,
    *,
    default: float,
    beta: float = 1.0,
    target_recall: float = 0.8,
    target_precision: float = 0.8,
    max_rows: int | None = None,
    seed: int = 0,
) -> float:
    """The score cut-off (predict 1 when `score >= cut`) that best meets a binary criterion.

    SageMaker's `binary_classifier_model_selection_criteria`: `accuracy`,
    `f_beta`, `precision_at_target_recall`, `recall_at_target_precision`; with
    `loss_function` (or when no cut-off meets a target) the `default` stands.
    Every distinct score is a candidate; one sort makes the search O(n log n).
    """
    if criterion == "loss_function" or len(scores) == 0:
        return default
    labels = np.asarray(y, np.float64)
    if max_rows is not None and len(scores) > max_rows:
        rows = np.random.default_rng(seed).choice(len(scores), size=max_rows, replace=False)
        scores, labels = scores[rows], labels[rows]
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], labels[order]
    last = np.r_[s[1:] != s[:-1], True]
    tp, fp, cut = np.cumsum(t)[last], np.cumsum(1 - t)[last], s[last]
    pos, n = t.sum(), len(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / (tp + fp))
        recall = tp / pos if pos else np.zeros_like(tp)
        if criterion == "accuracy":
            value = (tp + (n - pos - fp)) / n
        elif criterion == "f_beta":
            b2 = beta**2
            value = np.nan_to_num((1 + b2) * precision * recall / (b2 * precision + recall))
        elif criterion == "precision_at_target_recall":
            value = np.where(recall >= target_recall, precision, -np.inf)
        elif criterion == "recall_at_target_precision":
            value = np.where(precision >= target_precision, recall, -np.inf)
        else:
            raise ValueError(f"unknown criterion {criterion!r}")
    best = int(np.argmax(value))
    return float(cut[best]) if np.isfinite(value[best]) else default
