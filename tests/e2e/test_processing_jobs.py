"""Processing jobs through a real server: inputs in, outputs up, failures explained."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sageforge.core.errors import ValidationError
from sageforge.sdk import Session

pytestmark = pytest.mark.e2e


def test_script_reads_inputs_and_writes_outputs(session: Session, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.csv").write_text("x\n1\n2\n")
    (raw / "b.csv").write_text("x\n3\n")
    script = tmp_path / "total.py"
    script.write_text(
        textwrap.dedent(
            """
            import argparse, glob, os
            p = argparse.ArgumentParser()
            p.add_argument("--input"); p.add_argument("--output")
            a = p.parse_args()
            total = 0
            for f in sorted(glob.glob(os.path.join(a.input, "*.csv"))):
                total += sum(int(line) for line in open(f).read().split()[1:])
            os.makedirs(os.path.join(a.output, "sub"), exist_ok=True)
            open(os.path.join(a.output, "total.txt"), "w").write(str(total))
            open(os.path.join(a.output, "sub", "note.txt"), "w").write(os.environ["GREETING"])
            print("total", total)
            """
        )
    )
    job = session.create_processing_job(
        "sum-it",
        script=script,
        arguments=["--input", "/opt/ml/processing/input/raw", "--output=/opt/ml/processing/output"],
        inputs={"raw": (raw, "/opt/ml/processing/input/raw")},
        outputs={"result": ("/opt/ml/processing/output", "store://results/sum-it")},
        environment={"GREETING": "hello"},
    )
    desc = job.wait(timeout=60)
    assert desc["processing_job_status"] == "Completed", desc["failure_reason"]
    assert desc["processing_outputs"] == {
        "result": {"s3_uri": "store://results/sum-it", "files": 2}
    }
    keys = sorted(o["key"] for o in session.list_store("results/sum-it"))
    assert keys == ["results/sum-it/sub/note.txt", "results/sum-it/total.txt"]
    assert (
        session.download("store://results/sum-it/total.txt", tmp_path / "t.txt").read_text() == "6"
    )
    assert "total 6" in "".join(job.logs())


def test_failing_processing_script(session: Session, tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text("raise RuntimeError('cannot parse column 3')\n")
    desc = session.create_processing_job("boom", script=script).wait(timeout=60)
    assert desc["processing_job_status"] == "Failed"
    assert "RuntimeError: cannot parse column 3" in desc["failure_reason"]


def test_local_paths_must_be_under_opt_ml_processing(session: Session, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    with pytest.raises(ValidationError) as err:
        session.create_processing_job(
            "bad-path", script=script, inputs={"raw": (script, "/tmp/elsewhere")}
        )
    assert err.value.field == "processing_inputs[0].s3_input.local_path"
    assert "/opt/ml/processing" in err.value.message
