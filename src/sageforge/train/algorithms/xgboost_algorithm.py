"""SageMaker's built-in XGBoost algorithm, as a sageforge built-in.

Same hyperparameter names and defaults, same channels (`train`, `validation`,
and `model` for incremental training), same log lines (`[12]\\ttrain-auc:0.91
\\tvalidation-auc:0.88`) and metric names (`validation:auc`), same model file
(`xgboost-model`, loadable by a plain `xgboost.Booster().load_model`), so a
SageMaker XGBoost notebook runs unchanged. What differs is only what makes it
faster: CSV is read by pyarrow's multithreaded parser, and the `hist` method
trains on a `QuantileDMatrix` (binned once, without a second copy of the data).

`xgboost` is imported inside the methods: the server imports this module to
validate hyperparameters and must not pay for loading the library.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import (
    FLOAT_RE,
    Algorithm,
    AlgorithmError,
    Channel,
    MetricDefinition,
    TrainingEnvironment,
    register,
)
from sageforge.train.algorithms._codecs import (
    REQUEST_TYPES,
    RESPONSE_TYPES,
    decode_features,
    encode_predictions,
    split_content_type,
)
from sageforge.train.algorithms._data import CONTENT_TYPES, Dataset, load_channel
from sageforge.train.algorithms._hyperparameters import Hyperparameter as H
from sageforge.train.algorithms._hyperparameters import HyperparameterSpec, Kind

if TYPE_CHECKING:
    import xgboost

MODEL_FILE = "xgboost-model"

OBJECTIVES = (
    "reg:squarederror", "reg:squaredlogerror", "reg:logistic", "reg:pseudohubererror",
    "reg:absoluteerror", "reg:quantileerror", "reg:gamma", "reg:tweedie", "reg:linear",
    "binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson", "survival:cox",
    "multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map",
)  # fmt: skip

# What XGBoost reports when `eval_metric` is not set (checked against XGBoost by the tests).
_DEFAULT_METRIC = {
    "reg:squarederror": "rmse", "reg:linear": "rmse", "reg:squaredlogerror": "rmsle",
    "reg:logistic": "rmse", "reg:pseudohubererror": "mphe", "reg:absoluteerror": "mae",
    "reg:quantileerror": "quantile", "reg:gamma": "gamma-deviance",
    "reg:tweedie": "tweedie-nloglik",
    "binary:logistic": "logloss", "binary:logitraw": "logloss", "binary:hinge": "error",
    "count:poisson": "poisson-nloglik", "survival:cox": "cox-nloglik", "multi:softmax": "mlogloss",
    "multi:softprob": "mlogloss", "rank:pairwise": "ndcg", "rank:ndcg": "ndcg", "rank:map": "map",
}  # fmt: skip

BUILTIN_METRICS = (
    "rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "merror", "mlogloss", "auc",
    "aucpr", "pre", "ndcg", "map", "poisson-nloglik", "gamma-nloglik", "cox-nloglik",
    "gamma-deviance", "tweedie-nloglik", "aft-nloglik", "interval-regression-accuracy", "quantile",
)  # fmt: skip
# SageMaker's container computes these itself; so do we (see `_custom_metrics`).
CLASSIFICATION_METRICS = (
    "accuracy", "balanced_accuracy", "f1", "f1_binary", "f1_macro",
    "precision", "precision_macro", "recall", "recall_macro",
)  # fmt: skip
REGRESSION_METRICS = ("mse", "r2")
_MAXIMIZE = {"auc", "aucpr", "pre", "map", "ndcg", "interval-regression-accuracy", "r2"}
_MAXIMIZE.update(CLASSIFICATION_METRICS)
_METRIC_RE = re.compile(r"^(?P<base>[a-z_-]+?)(?:@(?P<arg>[0-9.]+))?(?P<minus>-)?$")
_UPDATERS = {"grow_colmaker", "grow_histmaker", "grow_quantile_histmaker", "grow_local_histmaker",
             "sync", "refresh", "prune", "shotgun", "coord_descent"}  # fmt: skip
# Accepted for compatibility with older SageMaker containers; XGBoost 3 has no such knob.
_OBSOLETE = {"deterministic_histogram", "single_precision_histogram", "sketch_eps",
             "lambda_bias", "use_dask_gpu_training", "save_model_on_termination"}  # fmt: skip
_NOT_BOOSTER = {"num_round", "early_stopping_rounds", "csv_weights", "eval_metric", "nthread"}
_CLASSIFIERS = ("binary:", "multi:", "reg:logistic")

_F: Kind = "float"
_I: Kind = "int"
_C: Kind = "categorical"
_S: Kind = "str"
_B: Kind = "bool"
SPEC = HyperparameterSpec(
    params=[
        H("num_round", _I, required=True, low=1, help="boosting rounds"),
        H("num_class", _I, low=2, tunable=False, help="classes; required by multi:*"),
        H("objective", _C, "reg:squarederror", choices=OBJECTIVES, tunable=False),
        H("eval_metric", _S, tunable=False, help="comma-separated; the last one early-stops"),
        H("early_stopping_rounds", _I, low=1, tunable=False, help="needs a validation channel"),
        H("booster", _C, "gbtree", choices=("gbtree", "gblinear", "dart")),
        H("eta", _F, 0.3, low=0, high=1, help="step size shrinkage (learning_rate)"),
        H("gamma", _F, 0.0, low=0, help="min loss reduction to split (min_split_loss)"),
        H("max_depth", _I, 6, low=0, help="0 is no limit (lossguide only)"),
        H("min_child_weight", _F, 1.0, low=0),
        H("max_delta_step", _F, 0.0, low=0),
        H("subsample", _F, 1.0, low=0, high=1, low_open=True),
        H("sampling_method", _C, "uniform", choices=("uniform", "gradient_based")),
        H("colsample_bytree", _F, 1.0, low=0, high=1, low_open=True),
        H("colsample_bylevel", _F, 1.0, low=0, high=1, low_open=True),
        H("colsample_bynode", _F, 1.0, low=0, high=1, low_open=True),
        H("lambda", _F, 1.0, low=0, help="L2 regularization (reg_lambda)"),
        H("alpha", _F, 0.0, low=0, help="L1 regularization (reg_alpha)"),
        H("tree_method", _C, "auto", choices=("auto", "exact", "approx", "hist", "gpu_hist")),
        H("scale_pos_weight", _F, 1.0, low=0, low_open=True),
        H("updater", _S, tunable=False, help="comma-separated tree updaters (advanced)"),
        H("refresh_leaf", _I, 1, low=0, high=1, tunable=False),
        H("process_type", _C, "default", choices=("default", "update"), tunable=False),
        H("grow_policy", _C, "depthwise", choices=("depthwise", "lossguide")),
        H("max_leaves", _I, 0, low=0),
        H("max_bin", _I, 256, low=2),
        H("num_parallel_tree", _I, 1, low=1),
        H("max_cat_to_onehot", _I, low=1),
        H("base_score", _F, help="initial prediction; default: estimated from the labels"),
        H("seed", _I, 0, tunable=False),
        H("csv_weights", _I, 0, low=0, high=1, tunable=False, help="1: 2nd CSV column weighs rows"),
        H("tweedie_variance_power", _F, 1.5, low=1, high=2, low_open=True, high_open=True),
        H("huber_slope", _F, 1.0, low=0, low_open=True, help="for reg:pseudohubererror"),
        H("quantile_alpha", _F, low=0, high=1, low_open=True, high_open=True),
        H("lambdarank_pair_method", _C, choices=("mean", "topk"), tunable=False),
        H("lambdarank_num_pair_per_sample", _I, low=1),
        H("ndcg_exp_gain", _B, tunable=False),
        H("sample_type", _C, "uniform", choices=("uniform", "weighted"), help="dart"),
        H("normalize_type", _C, "tree", choices=("tree", "forest"), help="dart"),
        H("rate_drop", _F, 0.0, low=0, high=1, help="dart"),
        H("one_drop", _I, 0, low=0, high=1, help="dart"),
        H("skip_drop", _F, 0.0, low=0, high=1, help="dart"),
        H("feature_selector", _C, choices=("cyclic", "shuffle", "random", "greedy", "thrifty")),
        H("top_k", _I, low=0, help="gblinear greedy/thrifty feature selector"),
        H("monotone_constraints", _S, tunable=False, help='per feature -1/0/1, e.g. "(1,0,-1)"'),
        H("interaction_constraints", _S, tunable=False, help='e.g. "[[0,1],[2,3]]"'),
        H("verbosity", _I, 1, low=0, high=3, tunable=False),
        H("nthread", _I, low=1, tunable=False, help="default: every CPU of the job"),
        H("deterministic_histogram", _B, tunable=False, help="ignored (obsolete)"),
        H("single_precision_histogram", _B, tunable=False, help="ignored (obsolete)"),
        H("sketch_eps", _F, low=0, high=1, low_open=True, high_open=True, help="ignored"),
        H("lambda_bias", _F, low=0, high=1, tunable=False, help="ignored (obsolete)"),
        H("use_dask_gpu_training", _B, tunable=False, help="ignored (no GPU)"),
        H("save_model_on_termination", _B, tunable=False, help="ignored"),
    ],
    aliases={
        "learning_rate": "eta",
        "reg_lambda": "lambda",
        "reg_alpha": "alpha",
        "min_split_loss": "gamma",
        "random_state": "seed",
    },
    # `_tuning_objective_metric` and friends are sent by SageMaker's tuner.
    ignored_prefixes=("sagemaker_", "_"),
)


def eval_metrics(hps: Mapping[str, Any]) -> list[str]:
    """The metric names a job reports, in log order: the asked ones or the objective's default."""
    asked = [m.strip() for m in str(hps.get("eval_metric") or "").split(",") if m.strip()]
    if asked:
        return list(dict.fromkeys(asked))
    objective = hps.get("objective", "reg:squarederror")
    metric = _DEFAULT_METRIC[objective]
    if metric == "tweedie-nloglik":
        return [f"tweedie-nloglik@{hps.get('tweedie_variance_power', 1.5):g}"]
    if objective.startswith("rank:"):
        return [f"{metric}@{hps.get('lambdarank_num_pair_per_sample') or 32}"]
    return [metric]


def _check_metric(name: str, objective: str) -> None:
    field = "hyper_parameters.eval_metric"
    if name in CLASSIFICATION_METRICS + REGRESSION_METRICS:
        if name in CLASSIFICATION_METRICS and not objective.startswith(_CLASSIFIERS):
            raise ValidationError(f"{name} needs a binary:* or multi:* objective", field=field)
        if name in REGRESSION_METRICS and objective == "multi:softprob":
            raise ValidationError(f"{name} needs a single score per row", field=field)
        return
    match = _METRIC_RE.match(name)
    base = match["base"] if match else name
    if base not in BUILTIN_METRICS:
        import difflib

        known = BUILTIN_METRICS + CLASSIFICATION_METRICS + REGRESSION_METRICS
        close = difflib.get_close_matches(base, known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValidationError(f"unknown metric {name!r}.{hint}", field=field)
    assert match is not None
    if match["arg"] and base not in ("error", "pre", "ndcg", "map", "tweedie-nloglik"):
        raise ValidationError(f"{base} takes no @ argument ({name!r})", field=field)
    if match["minus"] and base not in ("ndcg", "map"):
        raise ValidationError(f"only ndcg and map take a trailing '-' ({name!r})", field=field)


def _parse_constraints(text: str, name: str) -> Any:
    try:
        value = json.loads(text.strip().replace("(", "[").replace(")", "]"))
    except json.JSONDecodeError:
        value = None
    field = f"hyper_parameters.{name}"
    if name == "monotone_constraints":
        if not isinstance(value, list) or any(v not in (-1, 0, 1) for v in value):
            raise ValidationError(f"{text!r} is not a list of -1, 0, 1 like (1,0,-1)", field=field)
        return "(" + ",".join(str(v) for v in value) + ")"
    ok = isinstance(value, list) and all(
        isinstance(g, list) and all(isinstance(i, int) and i >= 0 for i in g) for g in value
    )
    if not ok:
        raise ValidationError(
            f"{text!r} is not a list of feature-index lists like [[0,1],[2]]", field=field
        )
    return json.dumps(value)


@register
class XGBoost(Algorithm):
    """Gradient-boosted trees, as SageMaker's XGBoost algorithm (1.7 and 3.0 containers)."""

    name = "xgboost"
    title = "XGBoost"
    hyperparameters = SPEC
    channels = (Channel("train", required=True), Channel("validation"), Channel("model"))
    content_types = CONTENT_TYPES
    inference_content_types = REQUEST_TYPES
    inference_accept_types = RESPONSE_TYPES

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values plus XGBoost's cross-parameter rules, checked before a job starts."""
        hps = self.hyperparameters.validate(raw)
        objective = hps["objective"]
        if objective.startswith("multi:") and "num_class" not in hps:
            raise ValidationError(
                f"is required by objective {objective}", field="hyper_parameters.num_class"
            )
        for metric in eval_metrics(hps) if hps.get("eval_metric") else []:
            _check_metric(metric, objective)
        for name in ("monotone_constraints", "interaction_constraints"):
            if name in hps:
                hps[name] = _parse_constraints(hps[name], name)
        unknown = {u.strip() for u in hps.get("updater", "").split(",") if u.strip()} - _UPDATERS
        if unknown:
            raise ValidationError(
                f"unknown updater(s) {', '.join(sorted(unknown))}; use "
                f"{', '.join(sorted(_UPDATERS))}",
                field="hyper_parameters.updater",
            )
        if hps.get("sampling_method") == "gradient_based":
            raise ValidationError(
                "gradient_based sampling needs a GPU; use uniform",
                field="hyper_parameters.sampling_method",
            )
        return hps

    def validate_channels(self, channels: Mapping[str, str | None]) -> None:
        """As the base class, except the `model` channel carries a model, not rows."""
        super().validate_channels({k: (None if k == "model" else v) for k, v in channels.items()})

    def metric_definitions(self, hyperparameters: Mapping[str, Any]) -> list[MetricDefinition]:
        """`train:<m>` and `validation:<m>` for every metric the job logs per round."""
        hps = dict(hyperparameters) or {"objective": "reg:squarederror"}
        hps.setdefault("objective", "reg:squarederror")
        return [
            MetricDefinition(f"{data}:{m}", rf".*\[[0-9]+\].*{data}-{re.escape(m)}:{FLOAT_RE}")
            for m in eval_metrics(hps)
            for data in ("train", "validation")
        ]

    def all_metric_names(self) -> list[str]:
        """Every metric any configuration can log (parameterised ones by their defaults)."""
        names = {*BUILTIN_METRICS, *CLASSIFICATION_METRICS, *REGRESSION_METRICS}
        names |= {m for o in OBJECTIVES for m in eval_metrics({"objective": o})}
        return sorted(f"{d}:{m}" for m in names for d in ("train", "validation"))

    # -- training ------------------------------------------------------------------------------

    def train(self, env: TrainingEnvironment) -> None:
        """Load the channels, boost `num_round` rounds logging each, save `xgboost-model`."""
        import xgboost as xgb

        hps = self.validate_hyperparameters(env.hyperparameters)
        given = {SPEC.aliases.get(k, k) for k in env.hyperparameters}
        if "train" not in env.channels:
            raise AlgorithmError("XGBoost needs a 'train' channel")
        if hps.get("early_stopping_rounds") and "validation" not in env.channels:
            raise AlgorithmError("early_stopping_rounds needs a validation channel")
        nthread = int(hps.get("nthread") or env.num_cpus or os.cpu_count() or 1)
        params = _booster_params(hps, given, nthread)
        train = self._load(env, "train", hps)
        val = self._load(env, "validation", hps) if "validation" in env.channels else None
        prev = self.load_model(env.channels["model"]) if "model" in env.channels else None
        quantile = (
            params.get("tree_method", "auto") in ("auto", "hist")
            and params.get("booster", "gbtree") != "gblinear"
            and hps["process_type"] == "default"
        )
        try:
            dtrain = _dmatrix(xgb, train, quantile, None, hps, nthread)
            evals = [(dtrain, "train")]
            if val is not None:
                evals.append((_dmatrix(xgb, val, quantile, dtrain, hps, nthread), "validation"))
            del train, val  # XGBoost holds its own copy now: free ours before boosting
            booster = self._boost(xgb, params, hps, dtrain, evals, prev)
        except xgb.core.XGBoostError as exc:
            raise AlgorithmError(_xgb_message(exc)) from None
        env.model_dir.mkdir(parents=True, exist_ok=True)
        tmp = env.model_dir / f".{MODEL_FILE}.tmp"
        tmp.write_bytes(booster.save_raw("ubj"))
        os.replace(tmp, env.model_dir / MODEL_FILE)
        print(f"Saved {MODEL_FILE} ({booster.num_boosted_rounds()} rounds)", flush=True)

    def _load(self, env: TrainingEnvironment, channel: str, hps: Mapping[str, Any]) -> Dataset:
        content_type = env.content_type(channel, "text/csv")
        data = load_channel(env.channels[channel], content_type, channel=channel)
        if hps["csv_weights"]:
            if split_content_type(content_type)[0] != "text/csv":
                raise AlgorithmError("csv_weights=1 needs text/csv data")
            data.weights = np.asarray(data.X[:, 0]).ravel()
            data.X = data.X[:, 1:]
            data.feature_names = data.feature_names[1:] if data.feature_names else None
        _check_labels(data, hps, channel)
        print(
            f"{channel}: {data.num_rows} rows x {data.num_features} features ({content_type})",
            flush=True,
        )
        return data

    def _boost(
        self,
        xgb: Any,
        params: dict[str, Any],
        hps: Mapping[str, Any],
        dtrain: Any,
        evals: list[tuple[Any, str]],
        prev: Any,
    ) -> xgboost.Booster:
        names = eval_metrics(hps)
        custom = [m for m in names if m in CLASSIFICATION_METRICS + REGRESSION_METRICS]
        log = _round_log(xgb)
        callbacks: list[Any] = [log]
        rounds = hps.get("early_stopping_rounds")
        stop_on = names[-1]  # SageMaker's rule: the last metric listed early-stops
        match = _METRIC_RE.match(stop_on)
        maximize = (match["base"] if match else stop_on) in _MAXIMIZE
        if rounds and len(evals) > 1:
            callbacks.append(
                xgb.callback.EarlyStopping(
                    rounds=rounds,
                    metric_name=stop_on,
                    data_name="validation",
                    maximize=maximize,
                    save_best=params.get("booster") != "gblinear",  # linear models cannot slice
                )
            )
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=hps["num_round"],
            evals=evals,
            verbose_eval=False,
            callbacks=callbacks,
            xgb_model=prev,
            custom_metric=_custom_metrics(custom, hps) if custom else None,
        )
        if rounds and len(evals) > 1 and log.history:
            # The model keeps the best round; log it last so the scraped final value is its.
            best = log.best_epoch(stop_on, maximize)
            stopped = log.last_epoch < log.first_epoch + hps["num_round"] - 1
            if best < log.last_epoch:
                head = "Stopping. Best iteration:" if stopped else "Best iteration:"
                print(f"{head}\n{log.line(best)}", flush=True)
        return booster

    # -- inference -----------------------------------------------------------------------------

    def load_model(self, model_dir: Path) -> xgboost.Booster:
        """The booster in `xgboost-model`: UBJSON, JSON, old binary, or a pickled Booster.

        It predicts on one thread: an endpoint answers many small requests at once,
        and an OpenMP fan-out per request costs more than it saves (one row: 0.13 ms
        on one thread against 4.5 ms on two, on a busy two-CPU host).
        """
        booster = self._read_booster(Path(model_dir))
        booster.set_param({"nthread": 1})
        return booster

    def _read_booster(self, model_dir: Path) -> xgboost.Booster:
        import xgboost as xgb

        path = model_dir / MODEL_FILE if model_dir.is_dir() else model_dir
        if not path.is_file():
            files = [p for p in model_dir.glob("*") if p.is_file() and not p.name.startswith(".")]
            if len(files) != 1:
                raise AlgorithmError(f"no {MODEL_FILE} in {model_dir}")
            path = files[0]
        raw = _model_bytes(path)
        if raw[:1] != b"\x80":  # not a pickle: one of XGBoost's own formats
            booster = xgb.Booster()
            try:
                booster.load_model(bytearray(raw))
                return booster
            except xgb.core.XGBoostError:
                pass
        try:  # SageMaker's 0.90 containers pickled the Booster (trusted: the job's own artifact)
            obj = pickle.loads(raw)
        except Exception:
            raise AlgorithmError(f"{path.name} is not an XGBoost model") from None
        obj = obj.get_booster() if hasattr(obj, "get_booster") else obj
        if not isinstance(obj, xgb.Booster):
            raise AlgorithmError(f"{path.name} holds a {type(obj).__name__}, not an XGBoost model")
        return obj

    def predict(self, model: Any, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """Score one request: probabilities for binary:logistic, one per class for softprob."""
        X = decode_features(body, content_type)
        expected = model.num_features()
        if X.shape[1] != expected:
            if not isinstance(X, np.ndarray) and X.shape[1] < expected:
                X = X.copy()
                X.resize((X.shape[0], expected))  # LIBSVM rows may omit trailing features
            else:
                raise ValidationError(
                    f"the model takes {expected} features per row; the request has {X.shape[1]}"
                )
        predictions = model.inplace_predict(X, validate_features=False)
        return encode_predictions(predictions, accept)


def _model_bytes(path: Path) -> bytes:
    """The model file's bytes; from inside model.tar.gz too (a `model` channel holds one)."""
    if not tarfile.is_tarfile(path):
        return path.read_bytes()
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        named = [m for m in members if Path(m.name).name == MODEL_FILE]
        member = (named or members)[0] if named or len(members) == 1 else None
        handle = tar.extractfile(member) if member else None
        if handle is None:
            raise AlgorithmError(f"{path.name} holds no {MODEL_FILE}")
        return handle.read()


def _booster_params(hps: Mapping[str, Any], given: set[str], nthread: int) -> dict[str, Any]:
    """XGBoost's own parameters: the ones the user set, so XGBoost never warns of unused ones."""
    params = {k: hps[k] for k in ("objective", "verbosity", "seed")} | {"nthread": nthread}
    for name in given & set(hps):
        if name not in _NOT_BOOSTER and name not in _OBSOLETE:
            params[name] = hps[name]
    if params["objective"] == "reg:linear":
        params["objective"] = "reg:squarederror"
    if params.get("tree_method") == "gpu_hist":
        params["tree_method"] = "hist"
    if not params["objective"].startswith("multi:"):
        params.pop("num_class", None)
    asked = eval_metrics(hps) if hps.get("eval_metric") else []
    builtin = [m for m in asked if m not in CLASSIFICATION_METRICS + REGRESSION_METRICS]
    if builtin:
        params["eval_metric"] = builtin
    if asked:
        params["disable_default_eval_metric"] = 1
    return params


def _dmatrix(
    xgb: Any, data: Dataset, quantile: bool, ref: Any, hps: Mapping[str, Any], nthread: int
) -> Any:
    X, y, qid, weights = data.X, data.y, data.qid, data.weights
    if qid is not None and np.any(np.diff(qid) < 0):  # XGBoost wants each query's rows together
        order = np.argsort(qid, kind="stable")
        X, qid = X[order], qid[order]
        y = y[order] if y is not None else None
        weights = weights[order] if weights is not None else None
    if ref is not None and X.shape[1] != ref.num_col():
        if isinstance(X, np.ndarray):
            raise AlgorithmError(
                f"the validation channel has {X.shape[1]} features; train has {ref.num_col()}"
            )
        X = X.copy()
        X.resize((X.shape[0], ref.num_col()))
    names = data.feature_names if _valid_names(data.feature_names) else None
    if ref is not None and names != ref.feature_names:
        if names and ref.feature_names:
            raise AlgorithmError("the validation channel's columns differ from train's")
        names = ref.feature_names
    kwargs = dict(label=y, weight=weights, qid=qid, feature_names=names, nthread=nthread)
    if quantile:
        return xgb.QuantileDMatrix(X, ref=ref, max_bin=hps["max_bin"], **kwargs)
    return xgb.DMatrix(X, **kwargs)


def _valid_names(names: list[str] | None) -> bool:
    # XGBoost refuses duplicate names and names holding [, ] or <; train unnamed instead.
    names = names or []
    return len(set(names)) == len(names) > 0 and not any(c in n for n in names for c in "[]<")


def _check_labels(data: Dataset, hps: Mapping[str, Any], channel: str) -> None:
    """Catch the label errors XGBoost reports cryptically, naming the row."""
    y, objective = data.y, hps["objective"]
    if y is None:
        raise AlgorithmError(f"the {channel} channel has no label column")
    bad: np.ndarray | None = None
    want = ""
    if objective.startswith("multi:"):
        k = hps["num_class"]
        bad = (y < 0) | (y >= k) | (y != np.floor(y))
        want = f"a class index 0..{k - 1} (num_class={k})"
    elif objective.startswith("binary:") or objective == "reg:logistic":
        bad, want = (y < 0) | (y > 1), "between 0 and 1"
    elif objective in ("count:poisson", "reg:tweedie"):
        bad, want = y < 0, "non-negative"
    elif objective == "reg:gamma":
        bad, want = y <= 0, "positive"
    elif objective == "reg:squaredlogerror":
        bad, want = y <= -1, "greater than -1"
    if bad is not None and bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise AlgorithmError(
            f"{channel} row {row + 1}: label {y[row]:g} is not valid for "
            f"objective {objective}; labels must be {want}"
        )


def _custom_metrics(names: list[str], hps: Mapping[str, Any]) -> Any:
    objective = hps["objective"]

    def metric(predt: np.ndarray, dmatrix: Any) -> list[tuple[str, float]]:
        y = dmatrix.get_label()
        out = []
        for name in names:
            if name in REGRESSION_METRICS:
                p = predt.reshape(len(y))
                sse = float(np.sum((y - p) ** 2))
                sst = float(np.sum((y - y.mean()) ** 2))
                out.append((name, sse / len(y) if name == "mse" else 1 - sse / sst if sst else 0.0))
            else:
                out.append((name, _classification_metric(name, y, _labels(predt, objective))))
        return out

    return metric


def _labels(predt: np.ndarray, objective: str) -> np.ndarray:
    if objective == "multi:softprob":
        return predt.reshape(predt.shape[0], -1).argmax(axis=1)
    if objective == "multi:softmax":
        return predt.astype(np.int64)
    return (predt > (0.0 if objective == "binary:logitraw" else 0.5)).astype(np.int64)


def _classification_metric(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    """accuracy/precision/recall/F1 from a confusion matrix: numpy only, every round."""
    truth = y.astype(np.int64)
    k = int(max(truth.max(), pred.max())) + 1
    cm = np.bincount(truth * k + pred, minlength=k * k).reshape(k, k)
    tp, predicted, actual = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
    if name == "accuracy":
        return float(tp.sum() / len(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(predicted + actual > 0, 2 * tp / (predicted + actual), 0.0)
    if name == "balanced_accuracy":
        return float(recall[actual > 0].mean())
    if name in ("f1_binary", "precision", "recall"):  # of the positive class
        score = {"f1_binary": f1, "precision": precision, "recall": recall}[name]
        return float(score[1]) if k > 1 else 0.0
    present = (predicted + actual) > 0  # macro average over the classes seen, as scikit-learn
    score = {"f1": f1, "f1_macro": f1, "precision_macro": precision, "recall_macro": recall}[name]
    return float(score[present].mean())


def _round_log(xgb: Any) -> Any:
    """A callback printing each round as XGBoost's own log line, flushed so metrics scrape live.

    Built on first use because its base class lives in the lazily imported xgboost.
    """

    class RoundLog(xgb.callback.TrainingCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.history: dict[str, dict[str, list[Any]]] = {}
            self.first_epoch = -1
            self.last_epoch = -1

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            self.history = evals_log
            self.first_epoch = epoch if self.first_epoch < 0 else self.first_epoch
            self.last_epoch = epoch
            print(self.line(epoch), flush=True)
            return False

        def line(self, epoch: int) -> str:
            i = epoch - self.first_epoch
            cells = [
                f"{data}-{metric}:{_fmt(values[i])}"
                for data, metrics in self.history.items()
                for metric, values in metrics.items()
            ]
            return "\t".join([f"[{epoch}]", *cells])

        def best_epoch(self, metric: str, maximize: bool) -> int:
            values = np.array([_score(v) for v in self.history["validation"][metric]])
            return self.first_epoch + int(values.argmax() if maximize else values.argmin())

    return RoundLog()


def _score(value: Any) -> float:
    return float(value[0] if isinstance(value, tuple) else value)


def _fmt(value: Any) -> str:
    # XGBoost's own format (5 decimals), except that tiny values keep their digits.
    v = _score(value)
    return f"{v:.5f}" if v == 0 or abs(v) >= 1e-3 else f"{v:.5g}"


def _xgb_message(exc: Exception) -> str:
    """XGBoost's error without its timestamp, source path and C++ stack trace."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    first = re.sub(r"^\[[0-9:]+\] [^ ]+:[0-9]+: ", "", first)
    first = re.sub(r"^Check failed: [^:]+: ", "", first)
    return f"XGBoost: {first}"
