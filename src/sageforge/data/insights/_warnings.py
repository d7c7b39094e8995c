"""Findings in plain words, each with what to do about it, most serious first."""

from __future__ import annotations

from typing import Any

_ORDER = {"high": 0, "medium": 1, "low": 2}


def _pct(fraction: float) -> str:
    p = 100 * fraction
    return f"{p:.0f}%" if p >= 1 or p == 0 else f"{p:.2g}%"


def _w(severity: str, kind: str, message: str, column: str | None = None) -> dict[str, Any]:
    return {"severity": severity, "kind": kind, "column": column, "message": message}


def column_warnings(col: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    """What is wrong with one column."""
    name, out = col["name"], []
    missing = col["missing_fraction"]
    if missing >= 0.5:
        out.append(
            _w(
                "high",
                "missing",
                f"column {name} is {_pct(missing)} missing: drop it, or impute it and add a missing indicator",
                name,
            )
        )
    elif missing >= 0.05:
        out.append(
            _w(
                "medium",
                "missing",
                f"column {name} is {_pct(missing)} missing: impute it (median or mode) or add a missing indicator",
                name,
            )
        )
    elif col["missing"]:
        out.append(
            _w("low", "missing", f"column {name} has {col['missing']:,} missing values", name)
        )
    if col["distinct"] <= 1 and rows:
        out.append(
            _w(
                "medium",
                "constant",
                f"column {name} has a single value: it cannot help a model, drop it",
                name,
            )
        )
    elif (
        col["kind"] in ("text", "categorical", "numeric")
        and rows >= 50
        and col["distinct_fraction"] >= 0.95
        and not (col["kind"] == "numeric" and col["dtype"].startswith("Float"))
    ):
        out.append(
            _w(
                "medium",
                "identifier",
                f"column {name} looks like an identifier (every value is different): drop it before training",
                name,
            )
        )
    elif col["kind"] == "text" or (col["kind"] == "categorical" and col["distinct"] > 50):
        out.append(
            _w(
                "low",
                "cardinality",
                f"column {name} has {col['distinct']:,} distinct values: one-hot encoding would explode it; use ordinal or target encoding, or drop it",
                name,
            )
        )
    text = col.get("text")
    if text:
        if text["whitespace_padded"]:
            example = text.get("whitespace_example")
            shown = f" (e.g. {example!r})" if example else ""
            out.append(
                _w(
                    "medium",
                    "whitespace",
                    f"column {name} has {text['whitespace_padded']:,} values with leading or trailing spaces{shown}: strip them, or they count as different categories",
                    name,
                )
            )
        if text["case_variants"] > 0:
            out.append(
                _w(
                    "medium",
                    "case",
                    f"column {name} has values that differ only in upper/lower case: lower-case them so they count as one category",
                    name,
                )
            )
        if text["empty"]:
            out.append(
                _w(
                    "low",
                    "empty",
                    f"column {name} has {text['empty']:,} empty strings: treat them as missing",
                    name,
                )
            )
        if text["numeric_like_fraction"] >= 0.95 and col["distinct"] > 2:
            out.append(
                _w(
                    "medium",
                    "numbers_as_text",
                    f"column {name} holds numbers as text ({_pct(text['numeric_like_fraction'])} parse as numbers): cast it to float",
                    name,
                )
            )
    num = col.get("numeric")
    if num:
        n_out = num.get("outliers") or 0
        present = max(1, rows - col["missing"])
        if n_out and n_out / present >= 0.001:
            out.append(
                _w(
                    "medium",
                    "outliers",
                    f"column {name} has {n_out:,} outliers beyond mean ± 3σ (max {num['max']:.4g}): clip or remove them, or check their unit",
                    name,
                )
            )
        skew = num.get("skew")
        if skew is not None and abs(skew) > 2 and not n_out:
            out.append(
                _w(
                    "low",
                    "skew",
                    f"column {name} is highly skewed (skew {skew:.1f}): a log transform may help linear models",
                    name,
                )
            )
    return out


def report_warnings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding of a report, most serious first."""
    rows = report["summary"]["rows"]
    out: list[dict[str, Any]] = []
    target = report.get("target")
    for leak in report.get("leakage") or []:
        pct = f"{100 * max(0.0, leak['score']):.0f}%"
        what = "cross-validated AUC" if leak["metric"] == "auc" else "cross-validated R²"
        if leak["verdict"] == "leak":
            out.append(
                _w(
                    "high",
                    "leakage",
                    f"column {leak['column']} is {pct} predictive of the target on its own ({what} {leak['score']:.3f} of a one-feature model): likely target leakage — drop it unless it is truly known at prediction time",
                    leak["column"],
                )
            )
        elif leak["verdict"] == "strong":
            out.append(
                _w(
                    "medium",
                    "predictive",
                    f"column {leak['column']} alone is {pct} predictive of the target ({what} {leak['score']:.3f}): make sure it is known at prediction time",
                    leak["column"],
                )
            )
    if target:
        if target.get("label_variants"):
            shown = ", ".join(repr(v) for v in target["label_variants"][:4])
            out.append(
                _w(
                    "high",
                    "target_labels",
                    f"the target {target['column']} spells its classes several ways ({shown}): strip and lower-case it before mapping it to numbers; this report merged them",
                    target["column"],
                )
            )
        if target["missing"]:
            out.append(
                _w(
                    "high",
                    "target_missing",
                    f"the target {target['column']} has {target['missing']:,} missing values: drop those rows before training",
                    target["column"],
                )
            )
        minority = target.get("minority_fraction")
        if minority is not None and minority < 0.1 and len(target.get("classes", [])) > 1:
            out.append(
                _w(
                    "medium",
                    "imbalance",
                    f"the target {target['column']} is imbalanced: the smallest class is {_pct(minority)} of rows; use a stratified split and consider balancing the training split",
                    target["column"],
                )
            )
        if len(target.get("classes", [])) == 1:
            out.append(
                _w(
                    "high",
                    "target_constant",
                    f"the target {target['column']} has a single class: nothing to learn",
                    target["column"],
                )
            )
    dup = report["summary"]["duplicate_rows"]
    if dup:
        out.append(
            _w(
                "medium",
                "duplicates",
                f"{dup:,} rows ({_pct(dup / max(1, rows))}) are exact duplicates: drop them, or copies landing in both train and test inflate the scores",
            )
        )
    for col in report["columns"]:
        if target and col["name"] == target["column"]:
            continue
        out.extend(column_warnings(col, rows))
    for pair in (report.get("correlations") or {}).get("top_pairs", []):
        if abs(pair["pearson"]) >= 0.95:
            out.append(
                _w(
                    "low",
                    "correlated",
                    f"columns {pair['a']} and {pair['b']} are almost the same signal (correlation {pair['pearson']:.2f}): consider dropping one",
                )
            )
    model = report.get("quick_model")
    baseline = (model or {}).get("baseline_accuracy")
    accuracy = (model or {}).get("accuracy")
    if baseline is not None and accuracy is not None and accuracy <= baseline + 0.005:
        out.append(
            _w(
                "low",
                "weak_model",
                "the quick model does no better than always predicting the most frequent class: the features may not carry the target",
            )
        )
    return sorted(out, key=lambda w: _ORDER[w["severity"]])
