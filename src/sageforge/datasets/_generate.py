"""Regenerate the bundled sample data: `python -m sageforge.datasets._generate`.

The data is synthetic (no network, no licence questions) but shaped like the
telecom churn table SageMaker's tutorials use: a yes/no target driven by
contract type, tenure, charges and support calls, with noise, so models have
something real to learn and metrics land in a believable range.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def churn(n: int = 5000, seed: int = 7) -> pd.DataFrame:
    """The customer-churn table: one row per customer, `churn` is yes/no."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.55, 0.25, 0.2])
    tenure = np.where(
        contract == "month-to-month", rng.integers(1, 40, n), rng.integers(6, 73, n)
    ).astype(int)
    internet = rng.choice(["fiber", "dsl", "none"], n, p=[0.45, 0.35, 0.2])
    base = {"fiber": 75.0, "dsl": 50.0, "none": 22.0}
    monthly = np.round(np.array([base[i] for i in internet]) + rng.normal(0, 12, n), 2).clip(
        15, 130
    )
    total = np.round(monthly * tenure * rng.uniform(0.9, 1.1, n), 2)
    calls = rng.poisson(1.2, n) + (rng.random(n) < 0.15) * rng.poisson(3, n)
    payment = rng.choice(["electronic-check", "mailed-check", "bank-transfer", "credit-card"], n)
    senior = (rng.random(n) < 0.16).astype(int)
    paperless = rng.choice(["yes", "no"], n, p=[0.6, 0.4])
    logit = (
        -1.2
        + 1.5 * (contract == "month-to-month")
        - 0.8 * (contract == "two-year")
        - 0.045 * tenure
        + 0.018 * (monthly - 60)
        + 0.35 * calls
        + 0.6 * (internet == "fiber")
        + 0.45 * (payment == "electronic-check")
        + 0.3 * senior
        + rng.normal(0, 0.6, n)
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": [f"C{100000 + i}" for i in range(n)],
            "churn": np.where(churned, "yes", "no"),
            "tenure_months": tenure,
            "contract": contract,
            "internet_service": internet,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": calls,
            "payment_method": payment,
            "senior_citizen": senior,
            "paperless_billing": paperless,
        }
    )


def untidy_churn(n: int = 5000, seed: int = 11) -> pd.DataFrame:
    """The churn table as it arrives from a CRM export, for the data-preparation demo.

    Deliberately untidy: missing values (tenure, payment method, charges),
    ~3% duplicated rows, text with stray spaces and mixed case, a total-charges
    column with data-entry outliers (×100), a `cancellation_fee` column that is
    only charged when a customer leaves (target leakage), and a yes/no target
    written inconsistently (`Yes`, ` no`).
    """
    rng = np.random.default_rng(seed)
    df = churn(n, seed)
    df["cancellation_fee"] = np.where(
        (df["churn"] == "yes") ^ (rng.random(n) < 0.005), np.round(rng.uniform(50, 250, n), 2), 0.0
    )
    padded = rng.random(n) < 0.15
    df["contract"] = np.where(padded, "  " + df["contract"] + " ", df["contract"])
    shouty = rng.random(n) < 0.1
    df["internet_service"] = np.where(
        shouty, df["internet_service"].str.upper(), df["internet_service"]
    )
    df["churn"] = np.where(rng.random(n) < 0.08, " " + df["churn"].str.capitalize(), df["churn"])
    tenure = df["tenure_months"].astype("Float64")
    tenure[rng.random(n) < 0.06] = pd.NA
    df["tenure_months"] = tenure.astype("Int64")
    df.loc[rng.random(n) < 0.04, "payment_method"] = ""
    df.loc[rng.random(n) < 0.02, "monthly_charges"] = np.nan
    typo = rng.random(n) < 0.01
    df.loc[typo, "total_charges"] = df.loc[typo, "total_charges"] * 100
    copies = df.sample(frac=0.03, random_state=seed)
    out = pd.concat([df, copies], ignore_index=True)
    return out.sample(frac=1.0, random_state=seed).reset_index(drop=True)


if __name__ == "__main__":
    churn().to_csv(HERE / "churn.csv", index=False)
    print(f"wrote {HERE / 'churn.csv'}")
    untidy_churn().to_csv(HERE / "untidy_churn.csv", index=False)
    print(f"wrote {HERE / 'untidy_churn.csv'}")
