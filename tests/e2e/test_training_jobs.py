"""Training jobs through a real server over HTTP: every way a job can end."""

from __future__ import annotations

import json
import os
import signal
import tarfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.sdk import Session, TrainingJob

pytestmark = pytest.mark.e2e


def script(tmp_path: Path, body: str, name: str = "train.py") -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_text(textwrap.dedent(body))
    return src


def data(tmp_path: Path, rows: str = "1,2,3\n4,5,6\n") -> Path:
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    (d / "part-0.csv").write_text(rows)
    return d


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_successful_job_follows_the_container_contract(session: Session, tmp_path: Path) -> None:
    src = script(
        tmp_path,
        """
        import json, os, sys
        env = {k: v for k, v in os.environ.items() if k.startswith(("SM_", "TRAINING_JOB"))}
        cfg = os.environ["SM_INPUT_CONFIG_DIR"]
        hps = json.load(open(os.path.join(cfg, "hyperparameters.json")))
        files = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
        for i in range(int(hps["epochs"])):
            print(f"epoch={i} loss={1 / (i + 1):.4f}", flush=True)
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as fh:
            json.dump({"argv": sys.argv[1:], "env": env, "files": files, "hps": hps}, fh)
        with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "extra.txt"), "w") as fh:
            fh.write("extra")
        """,
    )
    job = session.create_training_job(
        "ok-job",
        entry_point="train.py",
        source_dir=src,
        inputs={"train": data(tmp_path)},
        hyperparameters={"epochs": 4, "lr": 0.5},
        metric_definitions=[{"name": "train:loss", "regex": r"loss=([0-9.]+)"}],
    )
    desc = job.wait(timeout=60)
    assert desc["training_job_status"] == "Completed", desc["failure_reason"]
    steps = [t["status"] for t in desc["secondary_status_transitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert desc["final_metric_data_list"][0]["metric_name"] == "train:loss"
    assert desc["final_metric_data_list"][0]["value"] == pytest.approx(0.25)
    series = job.metrics()["train:loss"]
    assert [p["step"] for p in series] == [0, 1, 2, 3]
    assert [p["value"] for p in series] == pytest.approx([1, 0.5, 0.3333, 0.25])

    artifact = desc["model_artifacts"]["s3_model_artifacts"]
    assert artifact == "store://training-jobs/ok-job/output/model.tar.gz"
    local = session.download(artifact, tmp_path / "model.tar.gz")
    with tarfile.open(local) as tar:
        assert tar.getnames() == ["model.json"]
        model = json.load(tar.extractfile("model.json"))  # type: ignore[arg-type]
    assert model["argv"] == ["--epochs", "4", "--lr", "0.5"]
    assert model["files"] == ["part-0.csv"]
    assert model["hps"] == {"epochs": "4", "lr": "0.5"}
    env = model["env"]
    assert env["TRAINING_JOB_NAME"] == "ok-job"
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert json.loads(env["SM_HPS"]) == {"epochs": 4, "lr": 0.5}
    assert env["SM_HP_EPOCHS"] == "4"
    assert int(env["SM_NUM_CPUS"]) >= 1
    assert desc["output_data"] == "store://training-jobs/ok-job/output/output.tar.gz"
    log = "".join(job.logs())
    assert "epoch=3 loss=0.2500" in log


def test_failing_script_ends_failed_with_its_error(session: Session, tmp_path: Path) -> None:
    src = script(
        tmp_path,
        """
        print("about to fail", flush=True)
        raise ValueError("the data has no label column")
        """,
    )
    job = session.create_training_job("fails", entry_point="train.py", source_dir=src)
    desc = job.wait(timeout=60)
    assert desc["training_job_status"] == "Failed"
    assert "ValueError: the data has no label column" in desc["failure_reason"]
    assert "ExitCode 1" in desc["failure_reason"]
    assert desc["model_artifacts"] is None


def test_failure_file_is_the_reason(session: Session, tmp_path: Path) -> None:
    src = script(
        tmp_path,
        """
        import os, sys
        open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write("bad input rows")
        sys.exit(2)
        """,
    )
    desc = session.create_training_job("fails-file", entry_point="train.py", source_dir=src).wait(
        60
    )
    assert desc["training_job_status"] == "Failed"
    assert desc["failure_reason"] == "AlgorithmError: bad input rows"


def test_max_runtime_stops_the_job_and_keeps_the_model(session: Session, tmp_path: Path) -> None:
    src = script(
        tmp_path,
        """
        import os, signal, sys, time
        def save(*_):
            open(os.path.join(os.environ["SM_MODEL_DIR"], "checkpoint"), "w").write("saved")
            sys.exit(0)
        signal.signal(signal.SIGTERM, save)
        print("training forever", flush=True)
        while True:
            time.sleep(0.1)
        """,
    )
    job = session.create_training_job(
        "too-long", entry_point="train.py", source_dir=src, max_runtime_s=2
    )
    desc = job.wait(timeout=60)
    assert desc["training_job_status"] == "Stopped"
    assert desc["secondary_status"] == "MaxRuntimeExceeded"
    assert desc["model_artifacts"]["s3_model_artifacts"].endswith("too-long/output/model.tar.gz")
    local = session.download(desc["model_artifacts"]["s3_model_artifacts"], tmp_path / "m.tgz")
    with tarfile.open(local) as tar:
        assert tar.getnames() == ["checkpoint"]


def test_user_stop(session: Session, tmp_path: Path) -> None:
    src = script(
        tmp_path,
        """
        import time
        print("started", flush=True)
        time.sleep(120)
        """,
    )
    job = session.create_training_job("to-stop", entry_point="train.py", source_dir=src)
    wait_for(lambda: "started" in "".join(job.logs()), what="the script to start")
    assert job.stop()["training_job_status"] in ("Stopping", "Stopped")
    desc = job.wait(timeout=30)
    assert desc["training_job_status"] == "Stopped"
    assert desc["secondary_status"] == "Stopped"
    with pytest.raises(ValidationError, match="already ended"):
        job.stop()


def _job_pid(server_home: Path, kind: str, name: str) -> int:
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info.get("cmdline") or []
        if "sageforge.core.jobs" in cmd and cmd[-1] == str(server_home / "jobs" / kind / name):
            return p.pid
    raise AssertionError("job process not found")


def test_job_process_killed_with_sigkill_fails_with_a_reason(server, tmp_path: Path) -> None:
    session = server.session()
    src = script(tmp_path, "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    job = session.create_training_job("killed", entry_point="train.py", source_dir=src)
    wait_for(lambda: "up" in "".join(job.logs()), what="the script to start")
    pid = _job_pid(server.home, "training", "killed")
    os.kill(pid, signal.SIGKILL)
    desc = job.wait(timeout=30)
    assert desc["training_job_status"] == "Failed"
    assert "killed by signal SIGKILL" in desc["failure_reason"]
    # The script the runner started must not outlive it.
    wait_for(
        lambda: (
            not any(
                "train.py" in " ".join(p.info.get("cmdline") or [])
                and str(server.home) in " ".join(p.info.get("cmdline") or [])
                for p in psutil.process_iter(["cmdline"])
            )
        ),
        what="the orphaned script to be killed",
    )


def test_server_restart_readopts_a_running_job(fresh_server, tmp_path: Path) -> None:
    src = script(
        tmp_path,
        """
        import os, time
        print("step=1", flush=True)
        time.sleep(3)
        print("step=2", flush=True)
        open(os.path.join(os.environ["SM_MODEL_DIR"], "m"), "w").write("m")
        """,
    )
    session = fresh_server.session()
    job = session.create_training_job(
        "survivor",
        entry_point="train.py",
        source_dir=src,
        metric_definitions=[{"name": "step", "regex": r"step=(\d+)"}],
    )
    wait_for(lambda: "step=1" in "".join(job.logs()), what="the first step")
    fresh_server.stop(signal.SIGKILL)  # the server dies; the job goes on
    fresh_server.start()
    session = fresh_server.session()
    desc = TrainingJob(session, "survivor").wait(timeout=60)
    assert desc["training_job_status"] == "Completed"
    assert [m["value"] for m in desc["final_metric_data_list"]] == [2.0]


def test_job_that_dies_while_the_server_is_down_is_not_left_in_progress(
    fresh_server, tmp_path: Path
) -> None:
    src = script(tmp_path, "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    session = fresh_server.session()
    job = session.create_training_job("orphan", entry_point="train.py", source_dir=src)
    wait_for(lambda: "up" in "".join(job.logs()), what="the script to start")
    pid = _job_pid(fresh_server.home, "training", "orphan")
    fresh_server.stop(signal.SIGKILL)
    os.killpg(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid)], timeout=5) if psutil.pid_exists(pid) else None
    fresh_server.start()
    desc = fresh_server.session().training_job("orphan").describe()
    assert desc["training_job_status"] == "Failed"
    assert "while no server was watching" in desc["failure_reason"]


def test_bad_requests_name_the_field(session: Session, tmp_path: Path) -> None:
    src = script(tmp_path, "print('hi')\n")
    with pytest.raises(ValidationError) as err:
        session.create_training_job("bad_name!", entry_point="train.py", source_dir=src)
    assert err.value.field == "training_job_name"
    with pytest.raises(ValidationError) as err:
        session.create_training_job(
            "missing-input",
            entry_point="train.py",
            source_dir=src,
            inputs={"train": "store://nope/x"},
        )
    assert err.value.field == "input_data_config[0].data_source.s3_data_source.s3_uri"
    with pytest.raises(ValidationError) as err:
        session.api.post(
            "/training-jobs",
            {
                "training_job_name": "x",
                "algorithm_specification": {"entry_point": "t.py"},
                "oops": 1,
            },
        )
    assert err.value.field == "oops"
    with pytest.raises(ValidationError) as err:
        session.api.post(
            "/training-jobs",
            {
                "training_job_name": "x",
                "algorithm_specification": {"entry_point": "t.py", "source_dir": str(src)},
                "stopping_condition": {"max_runtime_in_seconds": 0},
            },
        )
    assert err.value.field == "stopping_condition.max_runtime_in_seconds"
    with pytest.raises(ValidationError, match="capturing group"):
        session.create_training_job(
            "bad-regex",
            entry_point="train.py",
            source_dir=src,
            metric_definitions=[{"name": "m", "regex": "loss=[0-9]+"}],
        )
    with pytest.raises(ResourceNotFound):
        session.training_job("does-not-exist")


def test_duplicate_name_is_resource_in_use(session: Session, tmp_path: Path) -> None:
    src = script(tmp_path, "print('hi')\n")
    session.create_training_job("dupe", entry_point="train.py", source_dir=src).wait(60)
    with pytest.raises(ResourceInUse):
        session.create_training_job("dupe", entry_point="train.py", source_dir=src)


def test_list_filters_and_pages(session: Session, tmp_path: Path) -> None:
    src = script(tmp_path, "print('hi')\n")
    for i in range(3):
        session.create_training_job(f"listed-{i}", entry_point="train.py", source_dir=src).wait(60)
    page = session.api.get("/training-jobs", name_contains="listed-", max_results=2)
    assert [r["training_job_name"] for r in page["training_job_summaries"]] == [
        "listed-2",
        "listed-1",
    ]
    rest = session.api.get(
        "/training-jobs", name_contains="listed-", max_results=2, next_token=page["next_token"]
    )
    assert [r["training_job_name"] for r in rest["training_job_summaries"]] == ["listed-0"]
    assert rest["next_token"] is None
    completed = session.list_training_jobs(status_equals="Completed", name_contains="listed")
    assert len(completed) == 3
