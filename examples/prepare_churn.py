"""Processing-job script: turn the raw churn table into XGBoost-ready splits.

Runs inside a sageforge processing job: reads /opt/ml/processing/input/raw,
one-hot encodes the categoricals, maps the yes/no target to 1/0, and writes
train/validation/test (70/20/10) as CSV with the label first and no header —
SageMaker's XGBoost layout — under /opt/ml/processing/output/.
"""

import argparse
import glob
import os

import numpy as np
import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True, help="folder of raw CSV files")
parser.add_argument("--output", required=True, help="folder to write the splits under")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

files = glob.glob(os.path.join(args.input, "*.csv"))
df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
print(f"read {len(df)} rows x {df.shape[1]} columns from {len(files)} file(s)")

df = df.drop(columns=["customer_id"]).drop_duplicates()
y = (df.pop("churn").str.strip().str.lower() == "yes").astype(int)
categoricals = ["contract", "internet_service", "payment_method", "paperless_billing"]
X = pd.get_dummies(df, columns=categoricals, dtype=float)
data = pd.concat([y.rename("churn"), X], axis=1)

rng = np.random.default_rng(args.seed)
order = rng.permutation(len(data))
n_train, n_val = int(0.7 * len(data)), int(0.2 * len(data))
splits = {
    "train": order[:n_train],
    "validation": order[n_train : n_train + n_val],
    "test": order[n_train + n_val :],
}
for name, idx in splits.items():
    out_dir = os.path.join(args.output, name)
    os.makedirs(out_dir, exist_ok=True)
    data.iloc[idx].to_csv(os.path.join(out_dir, f"{name}.csv"), header=False, index=False)
    print(f"{name}: {len(idx)} rows, churn rate {data.iloc[idx]['churn'].mean():.3f}")
