"""The tuning job's program: an Optuna study whose trials are real training jobs.

It runs in the tuning job's own process and talks to the server over its
REST API like any client, so every trial is an ordinary training job (in the
job list, with its log and metrics), and a server restart only pauses it: API
calls are retried until the server answers again.

Strategies: Bayesian (a Gaussian process with expected improvement, see
_gp.py), Random, Grid (every combination once) and Hyperband (Optuna's
Hyperband pruner on the per-round objective, TPE proposing the trials). `training_job_early_stopping_type=Auto` prunes with the
median rule, SageMaker's own.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from typing import Any

from sageforge.core.jobs.runner import COMPLETED, FAILED, STOPPED, JobFailure, JobResult, RunContext
from sageforge.tune._ranges import ParameterRange, ranges_from_spec

POLL_S = 0.1
TRIAL_TAG = "sageforge:tuning-job"
_TERMINAL = ("Completed", "Failed", "Stopped")


def run_tuning_job(ctx: RunContext) -> JobResult:
    """Run the search to its budget, a stop, or its time limit; see the module docstring."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").propagate = False
    spec = ctx.spec
    cfg = spec["hyper_parameter_tuning_job_config"]
    resolved = spec["resolved"]
    ranges = ranges_from_spec(cfg["parameter_ranges"])
    objective = cfg["hyper_parameter_tuning_job_objective"]
    maximize = objective["type"] == "Maximize"
    api = _Api(ctx)
    study = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        sampler=_sampler(cfg, ranges, resolved["max_number_of_training_jobs"]),
        pruner=_pruner(cfg),
    )
    dists = {r.name: r.distribution() for r in ranges}
    if cfg["strategy"] == "Grid":
        # Optuna's GridSampler stops the study from inside `tell`, which ask-and-tell
        # does not allow; enqueueing the combinations visits each exactly once.
        for combo in itertools.product(*(r.grid_values() for r in ranges)):
            study.enqueue_trial(dict(zip([r.name for r in ranges], combo, strict=True)))
    _warm_start(study, ranges, dists, resolved.get("parent_trials") or [], ctx)

    max_jobs = int(resolved["max_number_of_training_jobs"])
    parallel = int(resolved["max_parallel_training_jobs"])
    deadline = _deadline(cfg)
    ctx.events.status(
        "Tuning", f"Searching with {cfg['strategy']}: {max_jobs} trials, {parallel} at a time"
    )
    ctx.log(
        f"{cfg['strategy']} search over {', '.join(r.name for r in ranges)}; objective "
        f"{objective['type']} {objective['metric_name']}; budget {max_jobs}, parallel {parallel}"
    )
    running: dict[str, _Trial] = {}
    launched = 0
    best: float | None = None
    finished = 0
    outcome = COMPLETED
    while True:
        if ctx.stop.is_set() or (deadline is not None and time.monotonic() > deadline):
            outcome = STOPPED
            _stop_all(api, running, ctx)
            break
        while len(running) < parallel and launched < max_jobs:
            trial = study.ask(dists)
            launched += 1
            name = f"{ctx.name}-{launched:03d}-{secrets.token_hex(4)}"
            hps = {**spec["training_job_definition"]["static_hyper_parameters"]}
            hps.update({r.name: r.to_hyperparameter(trial.params[r.name]) for r in ranges})
            try:
                api.post("/training-jobs", _training_request(spec, name, hps, resolved, ctx.name))
            except JobFailure:
                raise
            except Exception as exc:  # a combination the algorithm refuses: a failed trial
                ctx.log(f"trial {launched} ({hps}) was refused: {exc}")
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                finished += 1
                continue
            running[name] = _Trial(trial, launched)
            ctx.log(f"trial {launched}: {name} {_short(hps, ranges)}")
        if not running:
            break
        time.sleep(POLL_S)
        for name, t in list(running.items()):
            desc = api.get(f"/training-jobs/{name}")
            if _prunes(cfg) and not t.pruned and desc["training_job_status"] == "InProgress":
                _report_and_maybe_prune(api, study, name, t, objective["metric_name"], ctx)
            if desc["training_job_status"] not in _TERMINAL:
                continue
            del running[name]
            finished += 1
            value = _final_objective(desc, objective["metric_name"])
            state = optuna.trial.TrialState
            if t.pruned:
                study.tell(t.trial, state=state.PRUNED)
                verdict = f"stopped early at {value}"
            elif value is None or desc["training_job_status"] == "Failed":
                study.tell(t.trial, state=state.FAIL)
                verdict = (
                    f"failed: {desc.get('failure_reason') or 'objective metric never reported'}"
                )
            else:
                study.tell(t.trial, value)
                verdict = f"{objective['metric_name']} = {value}"
            if value is not None and desc["training_job_status"] != "Failed":
                if best is None or (value > best if maximize else value < best):
                    best = value
                ctx.events.metric("objective", value, t.index - 1)
            if best is not None:
                ctx.events.metric("best_objective", best, finished - 1)
            ctx.log(f"trial {t.index} {name} {desc['training_job_status']}: {verdict}")

    outputs = _write_analysis(ctx, outcome if best is not None or outcome == STOPPED else FAILED)
    if outcome == STOPPED:
        return JobResult(STOPPED, outputs=outputs)
    if best is None:
        return JobResult(
            FAILED,
            failure_reason=f"ClientError: none of the {launched} training jobs reported the objective "
            f"metric {objective['metric_name']}; see the trials' failure reasons",
            outputs=outputs,
        )
    return JobResult(COMPLETED, outputs=outputs)


class _Trial:
    def __init__(self, trial: Any, index: int) -> None:
        self.trial = trial
        self.index = index
        self.reported = 0
        self.pruned = False


def _sampler(cfg: dict[str, Any], ranges: list[ParameterRange], budget: int) -> Any:
    import optuna

    seed = cfg.get("random_seed")
    strategy = cfg["strategy"]
    if strategy in ("Random", "Grid"):  # Grid: every combination is enqueued up front
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy == "Hyperband":  # pruned trials leave partial curves: TPE copes with them
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=max(3, min(10, budget // 4)),
            multivariate=True,
            constant_liar=True,
        )
    from sageforge.tune._gp import GPSampler

    return GPSampler(seed=seed, n_startup_trials=max(3, min(6, budget // 3)))


def _pruner(cfg: dict[str, Any]) -> Any:
    import optuna

    if cfg["strategy"] == "Hyperband":
        hb = cfg["strategy_config"]["hyperband_strategy_config"]
        return optuna.pruners.HyperbandPruner(
            min_resource=hb["min_resource"], max_resource=hb["max_resource"], reduction_factor=3
        )
    if cfg.get("training_job_early_stopping_type") == "Auto":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    return optuna.pruners.NopPruner()


def _prunes(cfg: dict[str, Any]) -> bool:
    return cfg["strategy"] == "Hyperband" or cfg.get("training_job_early_stopping_type") == "Auto"


def _report_and_maybe_prune(
    api: _Api, study: Any, name: str, t: _Trial, metric: str, ctx: RunContext
) -> None:
    """Feed the trial's per-round objective to the pruner; stop the job if it says so."""
    series = api.get(f"/training-jobs/{name}/metrics")["metrics"].get(metric, [])
    for point in series[t.reported :]:
        t.trial.report(float(point["value"]), int(point["step"]) + 1)
    t.reported = len(series)
    if series and t.trial.should_prune():
        t.pruned = True
        ctx.log(
            f"trial {t.index} {name}: stopping early at round {len(series)} ({metric} {series[-1]['value']})"
        )
        try:
            api.post(f"/training-jobs/{name}/stop")
        except Exception as exc:  # it may have finished meanwhile
            ctx.log(f"trial {t.index}: stop refused ({exc})")


def _training_request(
    spec: dict[str, Any], name: str, hps: dict[str, str], resolved: dict[str, Any], tuning_job: str
) -> dict[str, Any]:
    d = spec["training_job_definition"]
    return {
        "training_job_name": name,
        "algorithm_specification": {
            k: v for k, v in d["algorithm_specification"].items() if v is not None
        },
        "hyper_parameters": hps,
        "input_data_config": d["input_data_config"],
        "output_data_config": d["output_data_config"],
        "resource_config": d["resource_config"],
        "stopping_condition": d["stopping_condition"],
        "environment": {
            **d.get("environment", {}),
            "SM_NUM_CPUS": str(resolved["threads_per_trial"]),
        },
        "tags": [{"key": TRIAL_TAG, "value": tuning_job}],
    }


def _final_objective(desc: dict[str, Any], metric: str) -> float | None:
    for m in desc.get("final_metric_data_list") or []:
        if m["metric_name"] == metric:
            return float(m["value"])
    return None


def _warm_start(
    study: Any,
    ranges: list[ParameterRange],
    dists: dict[str, Any],
    parents: list[dict[str, Any]],
    ctx: RunContext,
) -> None:
    """Seed the study with earlier trials whose values fit the current ranges."""
    import optuna

    used = 0
    for p in parents:
        params = {}
        for r in ranges:
            raw = p["hyper_parameters"].get(r.name)
            sampled = None if raw is None else r.to_sampled(str(raw))
            if sampled is None:
                break
            params[r.name] = sampled
        else:
            study.add_trial(
                optuna.trial.create_trial(
                    params=params, distributions=dists, value=float(p["objective"])
                )
            )
            used += 1
    if parents:
        ctx.log(f"warm start: {used} of {len(parents)} earlier trials fit the current ranges")


def _stop_all(api: _Api, running: dict[str, _Trial], ctx: RunContext) -> None:
    """Stop every running trial and wait for them to end."""
    for name in running:
        try:
            api.post(f"/training-jobs/{name}/stop")
        except Exception as exc:
            ctx.log(f"stopping {name}: {exc}")
    for name in running:
        try:
            api.get(f"/training-jobs/{name}/wait", timeout=60)
        except Exception as exc:
            ctx.log(f"waiting for {name}: {exc}")


def _deadline(cfg: dict[str, Any]) -> float | None:
    limit = (cfg.get("resource_limits") or {}).get("max_runtime_in_seconds")
    return time.monotonic() + float(limit) if limit else None


def _short(hps: dict[str, str], ranges: list[ParameterRange]) -> str:
    return ", ".join(f"{r.name}={hps[r.name]}" for r in ranges)


def _write_analysis(ctx: RunContext, status: str) -> dict[str, Any]:
    """Render the analysis report from the server's view of the trials; upload it."""
    try:
        api = _Api(ctx)
        description = api.get(f"/tuning-jobs/{ctx.name}")
        description["hyper_parameter_tuning_job_status"] = status  # the server learns it after us
        trials = api.get(f"/tuning-jobs/{ctx.name}/trials", sort_by="CreationTime")[
            "training_job_summaries"
        ]
        from sageforge.tune._analysis import render_analysis

        html = render_analysis(description, trials)
        url = f"store://tuning-jobs/{ctx.name}/analysis.html"
        ctx.store.put_bytes(url.removeprefix("store://"), html.encode("utf-8"))
        ctx.log(f"analysis report: {url}")
        return {"analysis_report": url}
    except Exception as exc:  # the report is a nicety; the search result stands without it
        ctx.log(f"could not write the analysis report: {type(exc).__name__}: {exc}")
        return {}


class _Api:
    """The server's REST API, found through server.json, retried while the server restarts."""

    RETRY_FOR_S = 600.0

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._client: Any = None
        self._url = ""

    def _connect(self) -> Any:
        from sageforge.core.config import Settings
        from sageforge.sdk._client import ApiClient
        from sageforge.sdk._local_server import read_server_file

        info = read_server_file(Settings.load())
        if not info:
            raise ConnectionError("no server.json: the server is not running")
        if self._client is None or self._url != info["url"]:
            if self._client is not None:
                self._client.close()
            self._url = str(info["url"])
            self._client = ApiClient(self._url)
        return self._client

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        from sageforge.core.errors import ServerUnavailable

        deadline = time.monotonic() + self.RETRY_FOR_S
        delay = 0.2
        while True:
            try:
                client = self._connect()
                if method == "GET":
                    return client.get(path, **kw)
                return client.post(path, kw.get("body"))
            except (ServerUnavailable, ConnectionError) as exc:
                if time.monotonic() > deadline:
                    raise JobFailure(
                        f"InternalServerError: lost the server for {self.RETRY_FOR_S:.0f}s: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                self._client = None

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, **params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body=body)
