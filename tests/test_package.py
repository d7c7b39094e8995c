"""The package's face: a cheap import and a deliberate public API."""

from __future__ import annotations

import subprocess
import sys

import sageforge


def test_public_names() -> None:
    assert sorted(sageforge.__all__) == sageforge.__all__
    for name in sageforge.__all__:
        assert getattr(sageforge, name) is not None


def test_import_does_not_pull_heavy_libraries() -> None:
    code = (
        "import sys, sageforge; "
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'xgboost', 'sklearn', 'polars', 'pandas') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_job_process_entry_point_stays_light() -> None:
    code = (
        "import sys, sageforge.core.jobs.runner; "
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'pandas') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
