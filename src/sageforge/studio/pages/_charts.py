"""Plotly figures as plain dicts (JSON for `Plotly.newPlot`), so pages need not import plotly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = ("#1f5fbf", "#d9480f", "#2b8a3e", "#7048e8", "#c2255c", "#0b7285")


def layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": x}, "zeroline": False},
        "yaxis": {"title": {"text": y}, "zeroline": False},
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"t": 40, "r": 20, "b": 60, "l": 60},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        **extra,
    }


def metric_charts(metrics: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One chart per metric, its channels (`train:auc`, `validation:auc`) as lines by round.

    Returns [{"id", "title", "figure"}]; metrics with a single point still chart
    (as a marker), so a job that logs only a final value shows it.
    """
    groups: dict[str, list[tuple[str, Sequence[Mapping[str, Any]]]]] = {}
    for name, series in metrics.items():
        channel, _, metric = name.rpartition(":")
        groups.setdefault(metric or name, []).append((channel or name, series))
    charts = []
    for i, (metric, lines) in enumerate(sorted(groups.items())):
        data = [
            {
                "type": "scatter",
                "mode": "lines+markers" if len(series) < 60 else "lines",
                "name": channel,
                "x": [p["step"] for p in series],
                "y": [p["value"] for p in series],
                "line": {"color": PALETTE[j % len(PALETTE)]},
            }
            for j, (channel, series) in enumerate(sorted(lines))
        ]
        charts.append(
            {
                "id": f"metric-{i}",
                "title": metric,
                "figure": {"data": data, "layout": layout(metric, "round", metric)},
            }
        )
    return charts
