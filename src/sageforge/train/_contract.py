"""SageMaker's training-container contract, without the container.

The job folder plays /opt/ml: channels under `input/data/<channel>/`, the
config files under `input/config/`, the model written to `model/`, extra
outputs to `output/data/`, a failure reason to `output/failure`. The `SM_*`
variables are the ones the SageMaker training toolkit sets, so scripts written
for SageMaker's framework containers run unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CURRENT_HOST = "algo-1"


@dataclass(frozen=True)
class TrainingPaths:
    """The /opt/ml tree of one training job, rooted in its job folder."""

    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "input" / "data"

    def channel_dir(self, channel: str) -> Path:
        return self.data_dir / channel

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def code_dir(self) -> Path:
        return self.root / "code"

    def make(self) -> None:
        """Create the folders a script may expect to exist."""
        for d in (self.config_dir, self.data_dir, self.model_dir, self.output_data_dir):
            d.mkdir(parents=True, exist_ok=True)


def write_config_files(
    paths: TrainingPaths,
    hyperparameters: Mapping[str, str],
    channels: Mapping[str, Mapping[str, Any]],
) -> None:
    """Write hyperparameters.json, inputdataconfig.json and resourceconfig.json."""
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    (paths.config_dir / "hyperparameters.json").write_text(json.dumps(dict(hyperparameters)))
    (paths.config_dir / "inputdataconfig.json").write_text(json.dumps(dict(channels)))
    (paths.config_dir / "resourceconfig.json").write_text(json.dumps(resource_config()))


def resource_config() -> dict[str, Any]:
    """The single-host resource config a one-machine job sees."""
    return {
        "current_host": CURRENT_HOST,
        "current_instance_type": "local",
        "current_group_name": "homogeneousCluster",
        "hosts": [CURRENT_HOST],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": "local",
                "hosts": [CURRENT_HOST],
            }
        ],
        "network_interface_name": "lo",
    }


def _decode_hp(value: str) -> Any:
    """The toolkit JSON-decodes each hyperparameter when it can (so "10" is 10)."""
    try:
        return json.loads(value)
    except (ValueError, TypeError):
        return value


def _arg_value(value: Any) -> str:
    """A decoded hyperparameter as the toolkit writes it on the command line."""
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def user_args(hyperparameters: Mapping[str, str]) -> list[str]:
    """Hyperparameters as command-line arguments, as the toolkit passes them to scripts.

    The SageMaker SDK JSON-encodes every framework hyperparameter (`"\"gini\""`);
    the toolkit decodes each one and writes its value, so the script sees
    `--criterion gini`, not the quotes.
    """
    args: list[str] = []
    for key, value in hyperparameters.items():
        if key.startswith("sagemaker_"):
            continue
        args += [f"--{key}", _arg_value(_decode_hp(value))]
    return args


SHIM_DIR = Path(__file__).resolve().parent / "_toolkit_shim"
"""Holds a minimal `sagemaker_training` for scripts that import it (see its docstring)."""


def _needs_toolkit_shim() -> bool:
    import importlib.util

    return importlib.util.find_spec("sagemaker_training") is None


def training_env(
    paths: TrainingPaths,
    *,
    job_name: str,
    job_arn: str,
    hyperparameters: Mapping[str, str],
    channels: Mapping[str, Mapping[str, Any]],
    entry_point: str | None,
    module_dir: str | None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The process environment of a training job: the server's, plus the SM_* contract."""
    hps = {k: _decode_hp(v) for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    num_cpus = os.cpu_count() or 1
    module_name = Path(entry_point).stem if entry_point else ""
    env: dict[str, str] = {
        "TRAINING_JOB_NAME": job_name,
        "TRAINING_JOB_ARN": job_arn,
        "SM_TRAINING_ENV": "",
        "SM_HOSTS": json.dumps([CURRENT_HOST]),
        "SM_CURRENT_HOST": CURRENT_HOST,
        "SM_CURRENT_INSTANCE_TYPE": "local",
        "SM_NETWORK_INTERFACE_NAME": "lo",
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": "0",
        "SM_NUM_NEURONS": "0",
        "SM_MODEL_DIR": str(paths.model_dir),
        "SM_INPUT_DIR": str(paths.input_dir),
        "SM_INPUT_CONFIG_DIR": str(paths.config_dir),
        "SM_INPUT_DATA_CONFIG": json.dumps(dict(channels)),
        "SM_RESOURCE_CONFIG": json.dumps(resource_config()),
        "SM_OUTPUT_DIR": str(paths.output_dir),
        "SM_OUTPUT_DATA_DIR": str(paths.output_data_dir),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(paths.output_dir / "intermediate"),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(hps),
        "SM_USER_ARGS": json.dumps(user_args(hyperparameters)),
        "SM_USER_ENTRY_POINT": entry_point or "",
        "SM_MODULE_NAME": module_name,
        "SM_MODULE_DIR": module_dir or "",
        "SM_FRAMEWORK_MODULE": "",
        "SM_LOG_LEVEL": str(_decode_hp(hyperparameters.get("sagemaker_container_log_level", "20"))),
        "SM_IS_MODEL_PARALLEL": "false",
    }
    for channel in channels:
        env[f"SM_CHANNEL_{channel.upper()}"] = str(paths.channel_dir(channel))
    for key, value in hps.items():
        env[f"SM_HP_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    env["SM_TRAINING_ENV"] = json.dumps(
        {
            "job_name": job_name,
            "hosts": [CURRENT_HOST],
            "current_host": CURRENT_HOST,
            "hyperparameters": hps,
            "channel_input_dirs": {c: str(paths.channel_dir(c)) for c in channels},
            "model_dir": str(paths.model_dir),
            "output_data_dir": str(paths.output_data_dir),
            "input_data_config": dict(channels),
            "num_cpus": num_cpus,
            "num_gpus": 0,
            "module_name": module_name,
            "module_dir": module_dir or "",
            "user_entry_point": entry_point or "",
            "input_dir": str(paths.input_dir),
            "input_config_dir": str(paths.config_dir),
            "output_dir": str(paths.output_dir),
            "output_intermediate_dir": str(paths.output_dir / "intermediate"),
            "resource_config": resource_config(),
            "network_interface_name": "lo",
            "log_level": int(env["SM_LOG_LEVEL"]) if env["SM_LOG_LEVEL"].isdigit() else 20,
            "is_master": True,
            "master_hostname": CURRENT_HOST,
            "channels": sorted(channels),
        }
    )
    out = dict(os.environ)
    out.update(extra or {})
    out.update(env)
    out["PYTHONUNBUFFERED"] = "1"
    if paths.code_dir.exists():
        # Script mode: scripts import their own modules, and `sagemaker_training` when
        # they read the toolkit's Environment (a shim, unless the real one is installed).
        shim = str(SHIM_DIR) if entry_point and _needs_toolkit_shim() else ""
        out["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(paths.code_dir), os.environ.get("PYTHONPATH", ""), shim) if p
        )
    return out
