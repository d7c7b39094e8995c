"""A job's working folder: its private /opt/ml, plus the files runner and server share.

```
<home>/jobs/<kind>/<name>/
  job.json          what to run (written by the server before launch)
  events.jsonl      runner -> server: secondary statuses and metrics, appended
  result.json       the runner's final word (written atomically, last)
  logs/output.log   everything the job printed
  input/data/<channel>/   input/config/*.json       (training)
  model/  output/data/  output/failure             (training)
  processing/...    /opt/ml/processing mapped here  (processing)
  code/             the user's source directory
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPT_ML = "/opt/ml"
"""SageMaker's container root; paths under it are mapped into the job folder."""


@dataclass(frozen=True)
class JobLayout:
    """Paths inside one job's working folder."""

    root: Path

    @property
    def job_file(self) -> Path:
        return self.root / "job.json"

    @property
    def events_file(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def result_file(self) -> Path:
        return self.root / "result.json"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "output.log"

    @property
    def runner_log(self) -> Path:
        """The runner's own stderr (crashes of sageforge itself, not of user code)."""
        return self.root / "logs" / "runner.log"

    @property
    def code_dir(self) -> Path:
        return self.root / "code"

    def map_opt_ml(self, path: str) -> str:
        """Map a container path under /opt/ml into this job folder; others unchanged."""
        if path == OPT_ML or path.startswith(OPT_ML + "/"):
            return str(self.root) + path[len(OPT_ML) :]
        return path


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so readers never see a partial file (temp file + rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any | None:
    """The JSON in `path`, or None if it does not exist (or is not JSON yet)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
