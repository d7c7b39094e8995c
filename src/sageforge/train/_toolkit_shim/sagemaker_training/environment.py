"""`Environment`: the training job's settings as the toolkit presents them to scripts.

Everything is read from `SM_TRAINING_ENV` (the JSON sageforge writes for each
job) and the individual `SM_*` variables, so a script sees the same values
whether it reads them here or from the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any


def _json_env(name: str, default: Any) -> Any:
    try:
        return json.loads(os.environ[name])
    except (KeyError, ValueError):
        return default


def read_hyperparameters() -> dict[str, Any]:
    """The user's hyperparameters, JSON-decoded, without the SDK's `sagemaker_*` ones."""
    return dict(_json_env("SM_HPS", {}))


class Environment(Mapping[str, Any]):
    """The job's settings; also a read-only mapping of them, as the toolkit's is."""

    def __init__(self, **overrides: Any) -> None:
        env = dict(_json_env("SM_TRAINING_ENV", {}))
        env.setdefault("hyperparameters", read_hyperparameters())
        env.setdefault("model_dir", os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
        env.setdefault("output_data_dir", os.environ.get("SM_OUTPUT_DATA_DIR", ""))
        env.setdefault("channel_input_dirs", {})
        env.setdefault("hosts", _json_env("SM_HOSTS", ["algo-1"]))
        env.setdefault("current_host", os.environ.get("SM_CURRENT_HOST", "algo-1"))
        env.setdefault("num_cpus", int(os.environ.get("SM_NUM_CPUS", os.cpu_count() or 1)))
        env.setdefault("num_gpus", int(os.environ.get("SM_NUM_GPUS", "0")))
        env.setdefault("user_args", _json_env("SM_USER_ARGS", []))
        env.update(overrides)
        self._env = env

    def __getitem__(self, key: str) -> Any:
        return self._env[key]

    def __iter__(self) -> Any:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_env"][name]
        except KeyError:
            raise AttributeError(
                f"'Environment' has no attribute {name!r} in sageforge's stand-in for "
                "sagemaker_training; read it from os.environ (SM_*) instead"
            ) from None

    @property
    def channel_input_dirs(self) -> dict[str, str]:
        return dict(self._env["channel_input_dirs"])

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dict(self._env["hyperparameters"])

    @property
    def model_dir(self) -> str:
        return str(self._env["model_dir"])

    @property
    def output_data_dir(self) -> str:
        return str(self._env["output_data_dir"])

    @property
    def is_master(self) -> bool:
        return bool(self._env.get("is_master", True))

    def to_env_vars(self) -> dict[str, str]:
        """The `SM_*` variables of these settings (strings as they are, the rest as JSON)."""
        out = {}
        for key, value in self._env.items():
            out[f"SM_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
        return out

    def to_cmd_args(self) -> list[str]:
        return list(self._env.get("user_args", []))
