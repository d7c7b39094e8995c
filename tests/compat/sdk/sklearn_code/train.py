"""The SKLearn script-mode entry point, as in SageMaker's "Iris with Scikit-learn" example.

Runs as `python train.py --max_leaf_nodes 30` with SageMaker's `SM_*` environment; the
serving side imports it and calls `model_fn`.
"""

import argparse
import os

import joblib
from my_custom_lib import read_channel
from sklearn import tree

if __name__ == "__main__":
    parser = argparse.ArgumentParser()

    # Hyperparameters are described here. In this simple example we are just including one.
    parser.add_argument("--max_leaf_nodes", type=int, default=-1)

    # Sagemaker specific arguments. Defaults are set in the environment variables.
    parser.add_argument("--output-data-dir", type=str, default=os.environ["SM_OUTPUT_DATA_DIR"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", type=str, default=os.environ["SM_CHANNEL_TRAIN"])

    args = parser.parse_args()
    print("SM_HP_MAX_LEAF_NODES", os.environ.get("SM_HP_MAX_LEAF_NODES"))
    print(
        "SM_CURRENT_HOST", os.environ.get("SM_CURRENT_HOST"), "SM_HOSTS", os.environ.get("SM_HOSTS")
    )

    train_data = read_channel(args.train)

    # labels are in the first column
    train_y = train_data.iloc[:, 0]
    train_X = train_data.iloc[:, 1:]

    clf = tree.DecisionTreeClassifier(max_leaf_nodes=args.max_leaf_nodes)
    clf = clf.fit(train_X, train_y)
    print(f"train accuracy: {clf.score(train_X, train_y):.4f}")

    # Print the coefficients of the trained classifier, and save the coefficients
    joblib.dump(clf, os.path.join(args.model_dir, "model.joblib"))


def model_fn(model_dir):
    """Deserialized and return fitted model

    Note that this should have the same name as the serialized model in the main method
    """
    clf = joblib.load(os.path.join(model_dir, "model.joblib"))
    return clf
