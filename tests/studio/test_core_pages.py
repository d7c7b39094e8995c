"""Studio's core pages over HTTP against a real server: every state renders, errors inline.

One module-scoped server walks from the empty first run through data, flows,
jobs, training and tuning; each test leaves state the next one builds on, so
they run in file order (pytest's default).
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sageforge.datasets import sample_path
from sageforge.sdk import ContinuousParameter, Estimator, Session, Tuner

pytestmark = pytest.mark.e2e

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def web(server) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, headers=HTML, timeout=60) as client:
        yield client


def page(web: httpx.Client, url: str, status: int = 200) -> str:
    r = web.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:2000])
    assert r.headers["content-type"].startswith("text/html"), url
    assert "Traceback" not in r.text
    return r.text


def post(
    web: httpx.Client, url: str, data: dict | list | None = None, status: int = 303
) -> httpx.Response:  # type: ignore[type-arg]
    r = web.post(url, data=data or {})
    assert r.status_code == status, (url, r.status_code, r.text[:3000])
    return r


def error_of(html: str, field: str) -> str:
    """The inline error shown beside input `field` ('' when none)."""
    m = re.search(
        rf'<p class="error" id="f-{field}-error" role="alert"( hidden)?>([^<]*)</p>', html
    )
    assert m, f"no error slot for {field}"
    return "" if m.group(1) else m.group(2)


def wait_job(web: httpx.Client, kind: str, name: str, timeout: float = 120) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = web.get(f"/api/v1/{kind}-jobs/{name}/wait", params={"timeout": 10}).json()
        if d[f"{kind}_job_status"] not in ("InProgress", "Stopping"):
            return d  # type: ignore[no-any-return]
    raise AssertionError(f"{kind} job {name} did not end")


# -- empty -------------------------------------------------------------------------------------


def test_first_run_offers_the_sample_and_every_list_is_empty(web: httpx.Client) -> None:
    home = page(web, "/")
    assert "Load the sample dataset" in home and 'action="/data/samples"' in home
    assert 'aria-current="page"' in home and 'class="skip-link"' in home
    assert "No datasets yet" in page(web, "/data")
    assert "No flows yet" in page(web, "/flows")
    assert "No jobs yet" in page(web, "/jobs")
    assert "No tuning jobs yet" in page(web, "/tuning")
    assert "Upload a file" in page(web, "/data/upload")
    assert "starts from a dataset, and there is none yet" in page(web, "/flows/new")
    assert "Train XGBoost" in page(web, "/train")


@pytest.mark.parametrize(
    "url",
    [
        "/data/nope",
        "/data/nope/report",
        "/flows/nope",
        "/jobs/training/nope",
        "/jobs/processing/nope",
        "/jobs/cooking/nope",
        "/tuning/nope",
        "/no/such/page",
    ],
)
def test_missing_things_get_a_404_page_with_a_way_back(web: httpx.Client, url: str) -> None:
    html = page(web, url, 404)
    assert "Not found" in html and 'class="button" href="/' in html


def test_favicon_is_served(web: httpx.Client) -> None:
    r = web.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")


def test_the_api_keeps_answering_json(web: httpx.Client) -> None:
    r = web.get("/api/v1/datasets/nope")
    assert r.status_code == 404 and r.json()["error"]["type"] == "ResourceNotFound"
    assert web.get("/health").status_code == 200
    js = web.get("/static/studio/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert "max-age" in js.headers["cache-control"]
    assert "sf.poll" not in web.get("/static/studio/studio.css").text
    assert "function poll" in web.get("/static/studio/studio.js").text


# -- data --------------------------------------------------------------------------------------


def test_load_the_sample_then_its_page_previews_rows(web: httpx.Client) -> None:
    r = post(web, "/data/samples", {"sample": "untidy_churn"})
    assert r.headers["location"] == "/data/untidy-churn"
    html = page(web, "/data/untidy-churn")
    assert "Loaded the sample dataset" in html  # the flash survives the redirect once
    assert "customer_id" in html and "5,150" in html and "Run the report" in html
    assert "Loaded the sample" not in page(web, "/data/untidy-churn")
    assert "untidy-churn" in page(web, "/data")
    home = page(web, "/")
    assert "Load the sample dataset" not in home and "/data/untidy-churn" in home


def test_upload_streams_the_body_and_registers_a_dataset(web: httpx.Client) -> None:
    body = sample_path("churn").read_bytes()
    r = web.post(
        "/data/upload",
        params={"dataset_name": "churn-up", "filename": "churn.csv"},
        content=body,
        headers={"Content-Type": "application/octet-stream", "Accept": "application/json"},
    )
    assert r.status_code == 201 and r.json() == {"redirect": "/data/churn-up"}
    assert "5,000" in page(web, "/data/churn-up")
    again = web.post(
        "/data/upload",
        params={"dataset_name": "churn-up", "filename": "churn.csv"},
        content=body,
        headers={"Accept": "application/json"},
    )
    assert again.status_code == 400
    assert "already exists" in again.json()["errors"]["dataset_name"]


def test_upload_errors_show_inline_without_scripts(web: httpx.Client, tmp_path: Path) -> None:
    files = {"file": ("notes.xyz", b"a,b\n1,2\n")}
    r = web.post("/data/upload", data={"dataset_name": "bad_name"}, files=files)
    assert r.status_code == 400
    assert "not a valid name" in error_of(r.text, "dataset_name")
    assert 'aria-invalid="true"' in r.text and 'value="bad_name"' in r.text
    r = web.post("/data/upload", data={"dataset_name": "odd"}, files=files)
    assert r.status_code == 400 and "format" in error_of(r.text, "file")
    r = web.post(
        "/data/upload", data={"dataset_name": "good"}, files={"file": ("x.csv", b"a,b\n1,2\n")}
    )
    assert r.status_code == 303 and r.headers["location"] == "/data/good"


def test_import_from_a_store_url(web: httpx.Client) -> None:
    r = post(
        web, "/data/import", {"dataset_name": "imported", "source_url": "store://nothing/here"}, 400
    )
    assert error_of(r.text, "import-source_url")
    r = post(web, "/data/import", {"dataset_name": "", "source_url": ""}, 400)
    assert error_of(r.text, "import-dataset_name") == "is required"
    assert error_of(r.text, "dataset_name") == ""  # the upload form beside it is untouched
    post(
        web,
        "/data/import",
        {"dataset_name": "imported", "source_url": "store://samples/untidy_churn.csv"},
    )
    assert "untidy_churn.csv" in page(web, "/data/imported")
    post(web, "/data/imported/delete")
    page(web, "/data/imported", 404)


def test_the_insights_report_runs_and_is_embedded(web: httpx.Client) -> None:
    r = post(web, "/data/untidy-churn/report", {"target": "nope"}, 400)
    assert "no column" in error_of(r.text, "target")
    post(web, "/data/untidy-churn/report", {"target": "churn"})
    running = page(web, "/data/untidy-churn")
    assert "/api/v1/processing-jobs/report-untidy-churn" in running  # polled until it ends
    job = re.search(r'href="/jobs/processing/(report-untidy-churn-[^"]+)"', running)
    assert job
    assert wait_job(web, "processing", job.group(1))["processing_job_status"] == "Completed"
    done = page(web, "/data/untidy-churn")
    assert "warning" in done and 'src="/data/untidy-churn/report"' in done
    report = page(web, "/data/untidy-churn/report")
    assert "Plotly.newPlot" in report  # plotly.js is inline: the report works offline
    assert not re.search(r"<script[^>]+src=\"https?:", report)


# -- flows -------------------------------------------------------------------------------------

STEPS: list[dict[str, object]] = [
    {"_type": "drop_columns", "columns": ["customer_id", "cancellation_fee"]},
    {
        "_type": "format_string",
        "columns": ["churn", "contract", "internet_service"],
        "operation": "strip",
    },
    {"_type": "format_string", "columns": ["churn", "internet_service"], "operation": "lower"},
    {"_type": "map_values", "column": "churn", "mapping": '{"yes": 1, "no": 0}'},
    {"_type": "impute", "columns": ["tenure_months", "monthly_charges"], "strategy": "median"},
    {"_type": "fill_missing", "columns": ["payment_method"], "value": "unknown"},
    {
        "_type": "one_hot_encode",
        "columns": ["contract", "internet_service", "payment_method", "paperless_billing"],
        "drop_original": "true",
    },
    {"_type": "move_column", "column": "churn", "position": "start"},
    {
        "_type": "split",
        "method": "stratified",
        "fractions": "0.7, 0.2, 0.1",
        "stratify_column": "churn",
    },
]


def form_data(fields: dict[str, object], **extra: str) -> dict[str, str | list[str]]:
    """A step's fields as form data (lists post one value per selected option)."""
    out: dict[str, str | list[str]] = dict(extra)
    for k, v in fields.items():
        out[k] = [str(x) for x in v] if isinstance(v, list) else str(v)
    return out


def test_new_flow_validates_its_form(web: httpx.Client) -> None:
    html = page(web, "/flows/new?dataset=untidy-churn")
    assert 'value="untidy-churn-prep"' in html and '<option value="churn" selected>' in html
    r = post(web, "/flows/new", {"flow_name": "x y", "dataset": "untidy-churn"}, 400)
    assert "not a valid name" in error_of(r.text, "flow_name")
    r = post(web, "/flows/new", {"flow_name": "p", "dataset": "untidy-churn", "target": "zz"}, 400)
    assert "no column" in error_of(r.text, "target")
    r = post(web, "/flows/new", {"flow_name": "prep", "dataset": "untidy-churn", "target": "churn"})
    assert r.headers["location"] == "/flows/prep"


def test_build_a_flow_step_by_step_with_previews(web: httpx.Client) -> None:
    html = page(web, "/flows/prep?add=impute")
    assert 'name="columns"' in html and '<option value="tenure_months">' in html  # columns picker
    for i, step in enumerate(STEPS):
        r = web.post("/flows/prep/steps", data=form_data(step, _mode="add", _index=str(i)))
        assert r.status_code == 303, (step, r.text[:3000])
        assert r.headers["location"] == f"/flows/prep?step={i}#preview"
    html = page(web, "/flows/prep?step=3")
    assert "unsaved changes" in html and "Rows after step 4" in html
    preview = html.split('id="preview"')[1]
    assert "<td>1</td>" in preview or "<td>0</td>" in preview  # churn mapped to numbers
    assert html.count('aria-label="Move step') == 2 * len(STEPS)


def test_invalid_step_input_shows_inline_and_as_you_type(web: httpx.Client) -> None:
    bad = form_data({"_type": "impute", "columns": ["contract"]}, _mode="add", _index="1")
    r = web.post("/flows/prep/steps", data=bad)
    assert r.status_code == 400 and "not numeric" in error_of(r.text, "columns")
    assert 'aria-invalid="true"' in r.text and '<option value="contract" selected>' in r.text
    checked = web.post("/flows/prep/steps/check", data=bad, headers={"Accept": "application/json"})
    assert checked.json()["ok"] is False and "not numeric" in checked.json()["errors"]["columns"]
    ok = form_data({"_type": "impute", "columns": ["monthly_charges"]}, _mode="add", _index="1")
    assert web.post("/flows/prep/steps/check", data=ok).json() == {"ok": True, "errors": {}}
    r = web.post(
        "/flows/prep/steps",
        data=form_data({"_type": "split", "fractions": "a, b"}, _mode="add", _index="9"),
    )
    assert r.status_code == 400 and "numbers" in error_of(r.text, "fractions")
    assert "<option" in r.text  # the rest of the builder still renders


def test_reorder_edit_and_delete_steps(web: httpx.Client) -> None:
    post(
        web,
        "/flows/prep/steps",
        form_data({"_type": "shuffle", "seed": "7"}, _mode="add", _index="0"),
    )
    post(web, "/flows/prep/steps/0/move", {"direction": "down"})
    doc = json.loads(web.get("/api/v1/flows/prep").text)["document"]  # the saved v1: no steps
    assert doc["steps"] == []
    html = page(web, "/flows/prep?step=1&edit=1")
    assert "Edit step 2: Shuffle" in html and 'value="7"' in html
    post(
        web,
        "/flows/prep/steps",
        form_data({"_type": "shuffle", "seed": "8"}, _mode="edit", _index="1"),
    )
    post(web, "/flows/prep/steps/1/delete")
    post(web, "/flows/prep/steps/0/move", {"direction": "up"})  # already first: nothing moves
    html = page(web, "/flows/prep")
    assert "1. drop columns" in html and "shuffle" not in html.split("Add a step")[0]


def test_save_then_export_shows_the_job_with_progress(web: httpx.Client) -> None:
    r = post(web, "/flows/prep/save")
    assert "Saved version 2" in page(web, r.headers["location"])
    assert "Nothing to save" in page(web, post(web, "/flows/prep/save").headers["location"])
    r = post(web, "/flows/prep/export")
    job = r.headers["location"].rsplit("/", 1)[1]
    html = page(web, r.headers["location"])
    assert "Exporting flow prep" in html and job in html
    assert "/api/v1/processing-jobs/" + job in html  # the page polls status and the log
    d = wait_job(web, "processing", job)
    assert d["processing_job_status"] == "Completed", d["failure_reason"]
    done = page(web, f"/jobs/processing/{job}")
    assert "Completed" in done and "Stop</button>" not in done
    assert "store://prepared/prep" in done
    assert 'id="train-from-export" href="/train?flow=prep"' in done  # the next step, one click
    assert 'href="/train?flow=prep"' in page(web, "/flows/prep")


# -- jobs and training -------------------------------------------------------------------------


def test_train_form_errors_inline_then_starts_a_job(web: httpx.Client) -> None:
    html = page(web, "/train?flow=prep")
    assert 'value="store://prepared/prep/train"' in html
    assert 'value="store://prepared/prep/validation"' in html
    base = {
        "job_name": "studio-xgb",
        "train_url": "store://prepared/prep/train",
        "validation_url": "store://prepared/prep/validation",
        "content_type": "text/csv",
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "num_round": "15",
    }
    r = post(web, "/train", {**base, "max_depth": "deep"}, 400)
    assert "integer" in error_of(r.text, "max_depth")
    assert 'value="deep"' in r.text
    r = post(web, "/train", {**base, "train_url": "store://nothing"}, 400)
    assert error_of(r.text, "train_url")
    r = post(web, "/train", {**base, "max_depth": "3"})
    assert r.headers["location"] == "/jobs/training/studio-xgb"
    running = page(web, "/jobs/training/studio-xgb")
    assert "max_depth" in running and "store://prepared/prep/train" in running
    assert wait_job(web, "training", "studio-xgb")["training_job_status"] == "Completed"
    done = page(web, "/jobs/training/studio-xgb")
    assert 'id="metric-0"' in done and "validation" in done and "auc" in done
    assert "/static/studio/plotly.min.js" in done and "Starting" in done  # timeline


def test_job_list_filters_and_pages(web: httpx.Client) -> None:
    html = page(web, "/jobs?kind=training")
    assert "studio-xgb" in html and "report-untidy" not in html
    html = page(web, "/jobs?kind=processing&status=Completed&q=report")
    assert "report-untidy-churn" in html and "flow-prep" not in html
    assert "No job matches" in page(web, "/jobs?status=Failed&q=zzz")
    assert "studio-xgb" in page(web, "/jobs?page=999")  # past the end: the last page
    assert page(web, "/jobs?page=abc&kind=bogus")


def test_a_failed_and_a_stopped_job_render(web: httpx.Client) -> None:
    r = post(
        web,
        "/train",
        {"job_name": "fails", "train_url": "store://samples/untidy_churn.csv", "num_round": "5"},
    )
    wait_job(web, "training", "fails")
    html = page(web, "/jobs/training/fails")
    assert "Failed" in html and 'class="alert"' in html
    assert "Failed" in page(web, "/jobs?status=Failed")
    post(
        web,
        "/train",
        {
            "job_name": "stops",
            "train_url": "store://prepared/prep/train",
            "num_round": "100000",
            "eta": "0.0001",
        },
    )
    post(web, "/jobs/training/stops/stop")
    d = wait_job(web, "training", "stops")
    assert d["training_job_status"] in ("Stopped", "Completed", "Failed")
    assert d["training_job_status"] in page(web, "/jobs/training/stops")
    r = post(web, "/jobs/training/stops/stop")  # stopping an ended job: a message, not a 500
    assert page(web, r.headers["location"])


# -- tuning ------------------------------------------------------------------------------------

OBJECTIVE = textwrap.dedent(
    """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float, default=0.5)
    a = p.parse_args()
    for r in range(2):
        print(f"score={1 - (a.x - 0.3) ** 2 - 0.5 / (r + 1):.6f}", flush=True)
    """
)


def test_tuning_pages_show_trials_best_and_charts(
    web: httpx.Client, session: Session, tmp_path: Path
) -> None:
    (tmp_path / "objective.py").write_text(OBJECTIVE)
    est = Estimator(
        entry_point="objective.py",
        source_dir=tmp_path,
        metric_definitions=[{"name": "score", "regex": r"score=([-0-9.]+)"}],
        session=session,
    )
    tuner = Tuner(
        est,
        "score",
        {"x": ContinuousParameter(0.0, 1.0)},
        strategy="Random",
        max_jobs=3,
        max_parallel_jobs=2,
    )
    job = tuner.fit({}, job_name="studio-tune", wait=False, show_progress=False)
    assert "studio-tune" in page(web, "/tuning/studio-tune")  # running (or just started)
    assert job.wait()["hyper_parameter_tuning_job_status"] == "Completed"
    html = page(web, "/tuning/studio-tune")
    assert 'class="sortable"' in html and html.count("/jobs/training/studio-tune-") >= 3
    assert 'class="best"' in html and 'id="objective-chart"' in html
    assert "studio-tune" in page(web, "/tuning?status=Completed")
    r = post(web, "/tuning/studio-tune/stop")  # already ended
    assert page(web, r.headers["location"])
