"""`python -m sageforge.train.algorithms <name>`: run a built-in as a training job's process.

The job runner starts this under SageMaker's container contract (`SM_*`
variables, the config folder). A failure the user can act on (bad data, bad
hyperparameters) leaves its message in `<SM_OUTPUT_DIR>/failure`, which becomes
the job's FailureReason, and exits 1; anything else is a bug in the algorithm,
reported as `AlgorithmError: <type>: <message>` with the traceback in the log.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from sageforge.core.errors import ValidationError
from sageforge.train.algorithms._base import AlgorithmError, TrainingEnvironment, get_algorithm


def main(argv: list[str] | None = None) -> int:
    """Train the named built-in in this process; the exit status is the job's outcome."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sageforge.train.algorithms <algorithm-name>", file=sys.stderr)
        return 2
    env: TrainingEnvironment | None = None
    try:
        algorithm = get_algorithm(args[0])
        try:
            env = TrainingEnvironment.from_env()
        except KeyError as exc:
            raise AlgorithmError(f"the job environment lacks {exc} (not a training job?)") from None
        algorithm.train(env)
    except (AlgorithmError, ValidationError) as exc:
        message = str(exc)
        _fail(env, message)
        print(message, file=sys.stderr, flush=True)
        return 1
    except Exception as exc:
        _fail(env, f"AlgorithmError: {type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 1
    return 0


def _fail(env: TrainingEnvironment | None, message: str) -> None:
    """Write the failure file, even when the environment could not be read."""
    line = " ".join(message.split())[:1024]
    if env is not None:
        env.write_failure(line)
        return
    output = os.environ.get("SM_OUTPUT_DIR")
    if output:
        Path(output).mkdir(parents=True, exist_ok=True)
        (Path(output) / "failure").write_text(line, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
