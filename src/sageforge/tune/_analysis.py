"""The tuning job's HTML analysis: objective per trial, best so far, importance, coordinates.

Built from the same data the API serves (describe + trial summaries), so it
can be rendered by the tuning job when it ends or by the server on demand.
"""

from __future__ import annotations

import html
import math
from typing import Any

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2430; }}
 main {{ max-width: 1200px; margin: 0 auto; padding: 28px 24px 48px; }}
 h1 {{ margin: 0 0 4px; font-size: 24px; }} .sub {{ color: #5b6472; margin-bottom: 18px; }}
 .card {{ background: #fff; border: 1px solid #e2e5ea; border-radius: 10px; padding: 16px 18px; margin-top: 18px; min-width: 0; }}
 .grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 18px; }}
 .grid .card {{ margin-top: 18px; }}
 .plotly-graph-div {{ width: 100% !important; }}
 table {{ border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 14px; }}
 th, td {{ text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef0f3; }}
 th {{ font-size: 12px; text-transform: uppercase; color: #5b6472; }}
 tr.best td {{ background: #eaf3ff; font-weight: 600; }}
 .kv span {{ display: inline-block; margin-right: 22px; }}
</style>
<script>{plotlyjs}</script></head>
<body><main>
<h1>{title}</h1><div class="sub">{subtitle}</div>
<div class="card kv">{counters}</div>
<div class="grid">{charts}</div>
<div class="card"><h2>Trials</h2>{table}</div>
</main>
<script>window.addEventListener("load", function () {{
  document.querySelectorAll(".plotly-graph-div").forEach(function (d) {{ Plotly.Plots.resize(d); }});
}});</script>
</body></html>
"""


def render_analysis(description: dict[str, Any], trials: list[dict[str, Any]]) -> str:
    """One self-contained HTML page (plotly.js embedded; works offline)."""
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    cfg = description["hyper_parameter_tuning_job_config"]
    objective = cfg["hyper_parameter_tuning_job_objective"]
    maximize = objective["type"] == "Maximize"
    metric = objective["metric_name"]
    scored = [(i + 1, t) for i, t in enumerate(trials) if t["objective_status"] == "Succeeded"]
    best_name = (description.get("best_training_job") or {}).get("training_job_name")

    charts = []
    if scored:
        xs = [i for i, _ in scored]
        ys = [t["final_hyper_parameter_tuning_job_objective_metric"]["value"] for _, t in scored]
        best_so_far, current = [], None
        for y in ys:
            current = (
                y if current is None or (y > current if maximize else y < current) else current
            )
            best_so_far.append(current)
        fig = go.Figure()
        fig.add_scatter(
            x=xs, y=ys, mode="markers", name="trial", marker={"size": 9, "color": "#2f6fdf"}
        )
        fig.add_scatter(
            x=xs,
            y=best_so_far,
            mode="lines",
            name="best so far",
            line={"color": "#e07b24", "shape": "hv"},
        )
        _layout(fig, "trial", metric)
        charts.append(("Objective per trial and best so far", fig))
        importance = _importance(trials, cfg, maximize)
        if importance:
            names = list(importance)
            fig = go.Figure(
                go.Bar(
                    x=[importance[n] for n in names],
                    y=names,
                    orientation="h",
                    marker_color="#2f6fdf",
                )
            )
            _layout(fig, "importance (fANOVA)", "")
            charts.append(("Hyperparameter importance", fig))
        dims = _dimensions(scored, cfg)
        if dims:
            fig = go.Figure(
                go.Parcoords(
                    line={"color": ys, "colorscale": "Viridis", "showscale": True},
                    dimensions=[*dims, {"label": metric, "values": ys}],
                )
            )
            fig.update_layout(height=420, margin={"l": 60, "r": 40, "t": 50, "b": 30})
            charts.append(("Parallel coordinates", fig))
    rendered = "".join(
        f'<div class="card"><h2>{html.escape(title)}</h2>'
        f"{pio.to_html(fig, include_plotlyjs=False, full_html=False, config={'displaylogo': False, 'responsive': True})}</div>"
        for title, fig in charts
    )
    counters = description.get("training_job_status_counters", {})
    return _PAGE.format(
        title=html.escape(f"Tuning job {description['hyper_parameter_tuning_job_name']}"),
        subtitle=html.escape(
            f"{cfg['strategy']} · {objective['type']} {metric} · "
            f"{description['hyper_parameter_tuning_job_status']}"
        ),
        counters="".join(
            f"<span><b>{html.escape(str(v))}</b> {html.escape(k.replace('_', ' '))}</span>"
            for k, v in counters.items()
        )
        + (f"<span>best: <b>{html.escape(best_name)}</b></span>" if best_name else ""),
        charts=rendered or '<div class="card">No trial has reported the objective yet.</div>',
        table=_table(trials, best_name, metric, maximize),
        plotlyjs=get_plotlyjs(),
    )


def _layout(fig: Any, x: str, y: str) -> None:
    fig.update_layout(
        template="plotly_white", height=380, margin={"l": 60, "r": 20, "t": 20, "b": 50},
        xaxis_title=x, yaxis_title=y, legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip


def _numeric(value: str) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _dimensions(
    scored: list[tuple[int, dict[str, Any]]], cfg: dict[str, Any]
) -> list[dict[str, Any]]:
    names = [
        r["name"]
        for key in ("continuous_parameter_ranges", "integer_parameter_ranges")
        for r in cfg["parameter_ranges"][key]
    ]
    cats = {r["name"]: r["values"] for r in cfg["parameter_ranges"]["categorical_parameter_ranges"]}
    dims = []
    for name in names:
        vals = [_numeric(t["tuned_hyper_parameters"].get(name, "")) for _, t in scored]
        if all(v is not None for v in vals):
            dims.append({"label": name, "values": vals})
    for name, values in cats.items():
        idx = [
            values.index(t["tuned_hyper_parameters"].get(name))
            if t["tuned_hyper_parameters"].get(name) in values
            else 0
            for _, t in scored
        ]
        dims.append(
            {"label": name, "values": idx, "tickvals": list(range(len(values))), "ticktext": values}
        )
    return dims


def _importance(
    trials: list[dict[str, Any]], cfg: dict[str, Any], maximize: bool
) -> dict[str, float]:
    """fANOVA importances over the finished trials (empty when there are too few)."""
    import optuna

    from sageforge.tune._ranges import ranges_from_spec

    ranges = ranges_from_spec(cfg["parameter_ranges"])
    if len(ranges) < 2:
        return {}
    dists = {r.name: r.distribution() for r in ranges}
    study = optuna.create_study(direction="maximize" if maximize else "minimize")
    for t in trials:
        metric = t.get("final_hyper_parameter_tuning_job_objective_metric")
        if t["objective_status"] != "Succeeded" or not metric:
            continue
        params = {
            r.name: r.to_sampled(str(t["tuned_hyper_parameters"].get(r.name))) for r in ranges
        }
        if any(v is None for v in params.values()):
            continue
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=dists, value=metric["value"])
        )
    if len(study.trials) < 3:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):
        return {}


def _table(trials: list[dict[str, Any]], best: str | None, metric: str, maximize: bool) -> str:
    def key(t: dict[str, Any]) -> float:
        m = t.get("final_hyper_parameter_tuning_job_objective_metric")
        if not m:
            return math.inf
        return -m["value"] if maximize else m["value"]

    params = sorted({k for t in trials for k in t["tuned_hyper_parameters"]})
    head = "".join(
        f"<th>{html.escape(h)}</th>" for h in ["#", "training job", "status", metric, *params]
    )
    rows = []
    order = {t["training_job_name"]: i + 1 for i, t in enumerate(trials)}
    for t in sorted(trials, key=key):
        m = t.get("final_hyper_parameter_tuning_job_objective_metric")
        cells = [
            str(order[t["training_job_name"]]),
            t["training_job_name"],
            t["training_job_status"],
            f"{m['value']:.6g}" if m else "—",
            *(_short(str(t["tuned_hyper_parameters"].get(p, ""))) for p in params),
        ]
        cls = ' class="best"' if t["training_job_name"] == best else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _short(value: str) -> str:
    number = _numeric(value)
    if number is None or (number.is_integer() and "." not in value):
        return value
    return f"{number:.6g}"
