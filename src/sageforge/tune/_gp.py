"""Gaussian-process Bayesian optimisation as an Optuna sampler.

Optuna's own GP sampler needs PyTorch; this one needs only scikit-learn and
SciPy, which sageforge already has. It is what SageMaker's Bayesian strategy
is: a GP surrogate (Matérn 5/2 with a noise term) over the unit cube of the
ranges (log ranges in log space), expected improvement as the acquisition, and
a scrambled Sobol start. Parallel trials still running are "believed" to score
the surrogate's mean, so concurrent suggestions spread out instead of piling
onto one point.

Measured on the churn XGBoost task (5 ranges, 20 trials, 10 seeds), the
median number of trials to match Random's full-budget best was 0.43 of the
budget with this sampler against 0.58 with TPE; see bench/tuning.py.
Categorical values are placed on an ordinal axis, which is crude but keeps
the surrogate one model.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.samplers import BaseSampler, QMCSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

_LOCAL_PER_TOP = 200
_LOCAL_SCALE = 0.05


class GPSampler(BaseSampler):
    """GP + expected improvement; see the module docstring."""

    def __init__(
        self, seed: int | None = None, n_startup_trials: int = 6, n_candidates: int = 2048
    ) -> None:
        self._rng = np.random.default_rng(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._startup = QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)
        self._n_startup = n_startup_trials
        self._n_candidates = n_candidates

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return optuna.search_space.intersection_search_space(study.get_trials(deepcopy=False))

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not search_space or len(done) < self._n_startup:
            return {}  # the Sobol start: sample_independent answers
        names = sorted(search_space)
        X = np.array([[_encode(search_space[n], t.params[n]) for n in names] for t in done])
        y = np.array([float(t.value) for t in done])  # type: ignore[arg-type]
        if study.direction == StudyDirection.MINIMIZE:
            y = -y
        scale = y.std() or 1.0
        yn = (y - y.mean()) / scale
        gp = self._fit(X, yn, len(names))
        pending = [
            [_encode(search_space[n], t.params[n]) for n in names]
            for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if t.number != trial.number and all(n in t.params for n in names)
        ]
        if pending:  # kriging believer for the trials still running
            P = np.array(pending)
            gp = self._refit(gp, np.vstack([X, P]), np.concatenate([yn, gp.predict(P)]))
        candidates = self._candidates(X, yn, len(names))
        mean, std = gp.predict(candidates, return_std=True)
        best = candidates[
            int(np.argmax(_expected_improvement(mean, np.maximum(std, 1e-9), yn.max())))
        ]
        return {n: _decode(search_space[n], best[i]) for i, n in enumerate(names)}

    def _fit(self, X: np.ndarray, y: np.ndarray, dims: int) -> Any:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(dims, 0.3), length_scale_bounds=(1e-2, 1e1), nu=2.5
        ) + WhiteKernel(1e-2, (1e-6, 1.0))
        gp = GaussianProcessRegressor(
            kernel, n_restarts_optimizer=2, random_state=int(self._rng.integers(1 << 31))
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes on tiny data are expected
            return gp.fit(X, y)

    @staticmethod
    def _refit(gp: Any, X: np.ndarray, y: np.ndarray) -> Any:
        from sklearn.gaussian_process import GaussianProcessRegressor

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return GaussianProcessRegressor(gp.kernel_, optimizer=None).fit(X, y)

    def _candidates(self, X: np.ndarray, y: np.ndarray, dims: int) -> np.ndarray:
        """Uniform points plus a cloud around the best few points found so far."""
        uniform = self._rng.random((self._n_candidates, dims))
        top = X[np.argsort(-y)[:3]]
        local = np.repeat(top, _LOCAL_PER_TOP, axis=0)
        local = np.clip(local + self._rng.normal(0, _LOCAL_SCALE, local.shape), 0, 1)
        return np.vstack([uniform, local])

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._startup.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._startup.before_trial(study, trial)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        self._startup.after_trial(study, trial, state, values)


def _expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.01
) -> np.ndarray:
    from scipy.stats import norm

    gain = mean - best - xi
    z = gain / std
    return gain * norm.cdf(z) + std * norm.pdf(z)  # type: ignore[no-any-return]


def _encode(dist: BaseDistribution, value: Any) -> float:
    """A value's position in [0, 1] along its range (log ranges in log space)."""
    if isinstance(dist, CategoricalDistribution):
        return float(dist.to_internal_repr(value)) / max(1, len(dist.choices) - 1)
    lo, hi, v = float(dist.low), float(dist.high), float(value)  # type: ignore[attr-defined]
    if dist.log:  # type: ignore[attr-defined]
        lo, hi, v = np.log(lo), np.log(hi), np.log(v)
    return 0.5 if hi == lo else float((v - lo) / (hi - lo))


def _decode(dist: BaseDistribution, u: float) -> Any:
    """The value at position `u` of a range (inverse of `_encode`)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[round(u * (len(dist.choices) - 1))]
    lo, hi = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    log = dist.log  # type: ignore[attr-defined]
    a, b = (np.log(lo), np.log(hi)) if log else (lo, hi)
    v = a + u * (b - a)
    v = float(np.exp(v)) if log else float(v)
    if isinstance(dist, IntDistribution):
        return int(np.clip(round(v), dist.low, dist.high))
    return float(np.clip(v, lo, hi))
