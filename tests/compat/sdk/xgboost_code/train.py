"""The XGBoost framework (script mode) entry point, as in the SageMaker SDK's XGBoost docs.

"Use XGBoost as a framework": hyperparameters as command-line arguments, channels and the
model folder from `SM_*`, the Booster pickled as `xgboost-model`; the serving side imports
this file and calls `model_fn`, then the container's default input/predict/output
functions.
"""

import argparse
import json
import os
import pickle as pkl

import xgboost as xgb
from my_custom_lib import read_channel


def _dmatrix(channel_dir):
    data = read_channel(channel_dir)
    return xgb.DMatrix(data.iloc[:, 1:].to_numpy(), label=data.iloc[:, 0].to_numpy())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()

    # Hyperparameters are described here.
    parser.add_argument("--max_depth", type=int)
    parser.add_argument("--eta", type=float)
    parser.add_argument("--gamma", type=float)
    parser.add_argument("--min_child_weight", type=float)
    parser.add_argument("--subsample", type=float)
    parser.add_argument("--verbosity", type=int)
    parser.add_argument("--objective", type=str)
    parser.add_argument("--num_round", type=int)

    # Sagemaker specific arguments. Defaults are set in the environment variables.
    parser.add_argument("--output-data-dir", type=str, default=os.environ["SM_OUTPUT_DATA_DIR"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", type=str, default=os.environ["SM_CHANNEL_TRAIN"])
    parser.add_argument("--validation", type=str, default=os.environ["SM_CHANNEL_VALIDATION"])

    args = parser.parse_args()
    print("SM_HPS", json.loads(os.environ["SM_HPS"]))

    dtrain = _dmatrix(args.train)
    dval = _dmatrix(args.validation)
    watchlist = [(dtrain, "train"), (dval, "validation")]

    train_hp = {
        "max_depth": args.max_depth,
        "eta": args.eta,
        "gamma": args.gamma,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "verbosity": args.verbosity,
        "objective": args.objective,
    }

    bst = xgb.train(params=train_hp, dtrain=dtrain, evals=watchlist, num_boost_round=args.num_round)

    # Save the model to the location specified by ``model_dir``
    model_location = args.model_dir + "/xgboost-model"
    with open(model_location, "wb") as f:
        pkl.dump(bst, f)
    print(f"Stored trained model at {model_location}")


def model_fn(model_dir):
    """Deserialize and return fitted model.

    Note that this should have the same name as the serialized model in the _xgb_train method
    """
    model_file = "xgboost-model"
    with open(os.path.join(model_dir, model_file), "rb") as f:
        booster = pkl.load(f)
    return booster
