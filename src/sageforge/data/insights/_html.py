"""The report as one self-contained HTML page (plotly.js embedded once, works offline).

It renders the report dict only, so a page can be rebuilt from report.json.
Charts carry fixed ids (`target-chart`, `leakage-chart`, `importance-chart`,
`correlation-chart`, `hist-<n>`) for Studio and tests to find them.
"""

from __future__ import annotations

import itertools
from typing import Any

_BLUE, _RED, _ORANGE, _GREY = "#2563eb", "#dc2626", "#ea580c", "#9ca3af"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }}</title>
<style>
  :root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --card:#fff; --bg:#f6f7f9; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--ink);
         font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
  main { max-width:1240px; margin:0 auto; padding:32px 24px 48px; }
  h1 { margin:0 0 4px; font-size:26px; } h2 { font-size:18px; margin:0 0 12px; }
  h3 { font-size:15px; margin:0 0 8px; }
  .muted { color:var(--muted); }
  .card { background:var(--card); border:1px solid var(--line); border-radius:10px;
          padding:20px; margin-top:20px; min-width:0; }
  .grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(380px,1fr)); gap:20px;
          margin-top:20px; }
  .grid > * { min-width:0; } .grid .card { margin-top:0; }
  .plotly-graph-div { width:100% !important; }
  .tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; }
  .tile { border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
  .tile b { display:block; font-size:22px; }
  table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; font-size:14px; }
  th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:right; vertical-align:top; }
  th:first-child, td:first-child { text-align:left; }
  th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; }
  .scroll { overflow-x:auto; }
  ul.warnings { list-style:none; margin:0; padding:0; }
  ul.warnings li { padding:8px 12px; margin:6px 0; border-radius:6px; border-left:4px solid; }
  li.high { background:#fef2f2; border-color:#dc2626; } li.medium { background:#fffbeb; border-color:#f59e0b; }
  li.low { background:#f8fafc; border-color:#94a3b8; }
  .badge { font-size:11px; font-weight:700; text-transform:uppercase; margin-right:8px; }
  .leak td { color:#b91c1c; font-weight:600; }
  footer { margin-top:32px; color:var(--muted); font-size:13px; text-align:center; }
</style>
<script type="text/javascript">{{ plotlyjs | safe }}</script>
</head>
<body><main>
<header>
  <h1>{{ r.title }}</h1>
  <p class="muted">{% if r.source %}{{ r.source }} · {% endif %}generated {{ r.generated_at }} · {{ "{:,}".format(r.summary.rows) }} rows analysed{% if r.rows_total != r.summary.rows %} (sample of {{ "{:,}".format(r.rows_total) }}){% endif %}</p>
</header>

<section class="card" id="summary"><h2>Summary</h2>
  <div class="tiles">
    <div class="tile"><span class="muted">Rows</span><b>{{ "{:,}".format(r.summary.rows) }}</b></div>
    <div class="tile"><span class="muted">Columns</span><b>{{ r.summary.columns }}</b></div>
    <div class="tile"><span class="muted">Missing cells</span><b>{{ pct(r.summary.missing_fraction) }}</b></div>
    <div class="tile"><span class="muted">Duplicate rows</span><b>{{ "{:,}".format(r.summary.duplicate_rows) }}</b></div>
    <div class="tile"><span class="muted">Memory</span><b>{{ mb(r.summary.memory_bytes) }}</b></div>
    {% for kind, n in r.summary.column_kinds.items() %}
    <div class="tile"><span class="muted">{{ kind }} columns</span><b>{{ n }}</b></div>
    {% endfor %}
  </div>
</section>

<section class="card" id="warnings"><h2>Warnings ({{ r.warnings | length }})</h2>
  {% if r.warnings %}<ul class="warnings">
  {% for w in r.warnings %}<li class="{{ w.severity }}"><span class="badge">{{ w.severity }}</span>{{ w.message }}</li>{% endfor %}
  </ul>{% else %}<p class="muted">Nothing to worry about.</p>{% endif %}
</section>

{% if r.target %}
<section class="grid">
  <div class="card"><h2>Target: {{ r.target.column }} ({{ r.target.problem_type }})</h2>{{ charts.target | safe }}</div>
  <div class="card" id="leakage"><h2>Target leakage: each feature alone</h2>
    <p class="muted">Cross-validated {{ "AUC" if r.target.problem_type != "regression" else "R²" }} of a one-feature model; ≥ 0.95 is most likely a leak.</p>
    {{ charts.leakage | safe }}
  </div>
</section>
{% if r.quick_model %}
<section class="grid">
  <div class="card" id="quick-model"><h2>Quick model</h2>
    <p class="muted">XGBoost on {{ "{:,}".format(r.quick_model.train_rows) }} rows, scored on {{ "{:,}".format(r.quick_model.test_rows) }} held-out rows.</p>
    <table><tbody>
      <tr><td>{{ r.quick_model.metric }}</td><td>{{ num(r.quick_model.score) }}</td></tr>
      {% for k in ["accuracy", "f1", "baseline_accuracy", "rmse"] %}{% if r.quick_model[k] is defined %}<tr><td>{{ k.replace("_", " ") }}</td><td>{{ num(r.quick_model[k]) }}</td></tr>{% endif %}{% endfor %}
    </tbody></table>
  </div>
  <div class="card"><h2>Feature importance (quick model)</h2>{{ charts.importance | safe }}</div>
</section>
{% endif %}
{% endif %}

{% if charts.correlation %}
<section class="card" id="correlations"><h2>Correlations (Pearson)</h2>{{ charts.correlation | safe }}</section>
{% endif %}

<section class="card" id="columns"><h2>Columns</h2>
  <div class="scroll"><table>
    <thead><tr><th>Column</th><th>Type</th><th>Kind</th><th>Missing</th><th>Distinct</th><th>Min</th><th>Mean</th><th>Median</th><th>Max</th><th>Std</th><th>Top value</th></tr></thead>
    <tbody>{% for c in r.columns %}
      <tr><td>{{ c.name }}</td><td>{{ c.dtype }}</td><td>{{ c.kind }}</td><td>{{ pct(c.missing_fraction) }}</td><td>{{ "{:,}".format(c.distinct) }}</td>
      {% if c.numeric %}<td>{{ num(c.numeric.min) }}</td><td>{{ num(c.numeric.mean) }}</td><td>{{ num(c.numeric.median) }}</td><td>{{ num(c.numeric.max) }}</td><td>{{ num(c.numeric.std) }}</td><td></td>
      {% else %}<td></td><td></td><td></td><td></td><td></td><td>{{ (c.top_values[0].value ~ " (" ~ c.top_values[0].count ~ ")") if c.top_values else "" }}</td>{% endif %}</tr>
    {% endfor %}</tbody>
  </table></div>
</section>

<section class="grid" id="histograms">
{% for h in charts.histograms %}<div class="card"><h3>{{ h.name }}</h3>{{ h.html | safe }}</div>{% endfor %}
</section>

{% if r.anomalies and r.anomalies.rows %}
<section class="card" id="anomalies"><h2>Anomalous rows</h2>
  <p class="muted">{{ "{:,}".format(r.anomalies.count) }} rows of {{ "{:,}".format(r.sampling.anomaly_rows) }} flagged by an Isolation Forest; the most unusual:</p>
  <div class="scroll"><table><thead><tr><th>Score</th>{% for k in r.anomalies.rows[0]["values"] %}<th>{{ k }}</th>{% endfor %}</tr></thead>
  <tbody>{% for row in r.anomalies.rows %}<tr><td>{{ num(row.score) }}</td>{% for v in row["values"].values() %}<td>{{ "" if v is none else v }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
</section>
{% endif %}

{% if r.duplicates.examples %}
<section class="card" id="duplicates"><h2>Duplicate rows</h2>
  <div class="scroll"><table><thead><tr><th>Copies</th>{% for k in r.duplicates.examples[0].row %}<th>{{ k }}</th>{% endfor %}</tr></thead>
  <tbody>{% for d in r.duplicates.examples %}<tr><td>{{ d.copies }}</td>{% for v in d.row.values() %}<td>{{ "" if v is none else v }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
</section>
{% endif %}
<footer>Generated by sageforge {{ r.sageforge_version }} · timings {{ r.timings_s }}</footer>
</main>
<script>
  // Charts laid out before the grid settled can be wider than their card: fit them once loaded.
  window.addEventListener("load", function () {
    document.querySelectorAll(".plotly-graph-div").forEach(function (d) { Plotly.Plots.resize(d); });
  });
</script>
</body></html>
"""

MAX_HISTOGRAMS = 60


def _layout(go: Any, x: str, y: str, height: int = 360, **extra: Any) -> Any:
    return go.Layout(
        template="plotly_white",
        height=height,
        margin={"l": 55, "r": 15, "t": 34, "b": 50},  # room for the mode bar above the bars
        xaxis={"title": {"text": x}},
        yaxis={"title": {"text": y}},
        showlegend=False,
        **extra,
    )


def _html(pio: Any, fig: Any, div_id: str, height: int) -> str:
    return str(
        pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
            default_height=f"{height}px",
        )
    )


def _histogram(go: Any, col: dict[str, Any]) -> Any | None:
    h = col.get("histogram") or {}
    if h.get("kind") == "numeric" and h.get("counts"):
        edges = h["edges"]
        centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)] if len(edges) > 1 else edges
        widths = [b - a for a, b in itertools.pairwise(edges)] if len(edges) > 1 else None
        fig = go.Figure(layout=_layout(go, col["name"], "Rows", 300, bargap=0.02))
        fig.add_bar(x=centres, y=h["counts"], width=widths, marker={"color": _BLUE})
        return fig
    if h.get("kind") == "categorical" and h.get("counts"):
        fig = go.Figure(layout=_layout(go, col["name"], "Rows", 300))
        fig.add_bar(x=[str(v) for v in h["values"]], y=h["counts"], marker={"color": _BLUE})
        fig.update_xaxes(type="category")
        return fig
    return None


def render_html(report: dict[str, Any]) -> str:
    """The report dict (from `build_report`) as a self-contained HTML page."""
    import jinja2
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    charts: dict[str, Any] = {"histograms": []}
    target = report.get("target")
    if target:
        if target["problem_type"] == "regression":
            tcol = next((c for c in report["columns"] if c["name"] == target["column"]), None)
            fig = _histogram(go, tcol) if tcol else None
        else:
            classes = target.get("classes", [])
            fig = go.Figure(layout=_layout(go, target["column"], "Rows"))
            fig.add_bar(
                x=[c["value"] for c in classes],
                y=[c["count"] for c in classes],
                marker={"color": _BLUE},
            )
            fig.update_xaxes(type="category")
        charts["target"] = _html(pio, fig, "target-chart", 360) if fig else ""
        leaks = report.get("leakage") or []
        shown = leaks[:30][::-1]
        fig = go.Figure(layout=_layout(go, "Score alone", "", max(240, 24 * len(shown) + 60)))
        colours = [
            _RED if x["verdict"] == "leak" else _ORANGE if x["verdict"] == "strong" else _BLUE
            for x in shown
        ]
        fig.add_bar(
            x=[x["score"] for x in shown],
            y=[x["column"] for x in shown],
            orientation="h",
            marker={"color": colours},
        )
        fig.add_vline(x=0.95, line={"color": _GREY, "dash": "dash"})
        charts["leakage"] = _html(pio, fig, "leakage-chart", max(240, 24 * len(shown) + 60))
        model = report.get("quick_model")
        if model:
            imps = model["feature_importances"][:25][::-1]
            height = max(240, 22 * len(imps) + 60)
            fig = go.Figure(layout=_layout(go, "Share of total gain", "", height))
            fig.add_bar(
                x=[i["importance"] for i in imps],
                y=[i["feature"] for i in imps],
                orientation="h",
                marker={"color": _BLUE},
            )
            charts["importance"] = _html(pio, fig, "importance-chart", height)
    corr = report.get("correlations") or {}
    if len(corr.get("columns", [])) >= 2:
        names = corr["columns"]
        height = max(360, 22 * len(names) + 120)
        fig = go.Figure(
            go.Heatmap(
                z=corr["pearson"],
                x=names,
                y=names,
                zmin=-1,
                zmax=1,
                colorscale="RdBu",
                reversescale=True,
            ),
            layout=_layout(go, "", "", height),
        )
        fig.update_yaxes(autorange="reversed")
        charts["correlation"] = _html(pio, fig, "correlation-chart", height)
    for i, col in enumerate(report["columns"][:MAX_HISTOGRAMS]):
        fig = _histogram(go, col)
        if fig is not None:
            charts["histograms"].append(
                {
                    "name": f"{col['name']} ({col['kind']})",
                    "html": _html(pio, fig, f"hist-{i}", 300),
                }
            )
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(pct=_pct, num=_num, mb=_mb)
    return env.from_string(_TEMPLATE).render(r=report, charts=charts, plotlyjs=get_plotlyjs())


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, float):
        return (
            f"{v:.4g}"
            if abs(v) >= 1e5 or (v and abs(v) < 1e-3)
            else f"{v:,.4f}".rstrip("0").rstrip(".")
        )
    return str(v)


def _mb(v: int) -> str:
    return f"{v / 1e6:.1f} MB" if v >= 1e5 else f"{v / 1e3:.1f} kB"
