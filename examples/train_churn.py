"""Script-mode training: gradient-boosted trees on the prepared churn splits.

Written the way a SageMaker script-mode script is: hyperparameters arrive as
command-line arguments, data under SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION,
the model goes to SM_MODEL_DIR. It prints `validation-auc=...` each round so a
metric definition can chart it.
"""

import argparse
import glob
import json
import os

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

parser = argparse.ArgumentParser()
parser.add_argument("--num_round", type=int, default=50)
parser.add_argument("--max_depth", type=int, default=4)
parser.add_argument("--eta", type=float, default=0.2)
args = parser.parse_args()


def load(channel: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(glob.glob(os.path.join(os.environ[f"SM_CHANNEL_{channel.upper()}"], "*.csv")))
    data = pd.concat([pd.read_csv(f, header=None) for f in files]).to_numpy(dtype=np.float32)
    return data[:, 1:], data[:, 0]


X_train, y_train = load("train")
X_val, y_val = load("validation")
print(f"training on {len(y_train)} rows, validating on {len(y_val)}")
dtrain, dval = xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_val, y_val)
params = {
    "objective": "binary:logistic",
    "max_depth": args.max_depth,
    "eta": args.eta,
    "eval_metric": "auc",
}


class PrintAuc(xgb.callback.TrainingCallback):
    """Print one line per round in a form a metric regex can read."""

    def after_iteration(self, model, epoch, evals_log):
        auc = evals_log["validation"]["auc"][-1]
        print(
            f"round={epoch} train-auc={evals_log['train']['auc'][-1]:.5f} validation-auc={auc:.5f}",
            flush=True,
        )
        return False


booster = xgb.train(
    params,
    dtrain,
    args.num_round,
    evals=[(dtrain, "train"), (dval, "validation")],
    callbacks=[PrintAuc()],
    verbose_eval=False,
)
auc = roc_auc_score(y_val, booster.predict(dval))
print(f"final validation AUC {auc:.4f}")
booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "xgboost-model"))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "metrics.json"), "w") as fh:
    json.dump({"validation_auc": auc}, fh)
