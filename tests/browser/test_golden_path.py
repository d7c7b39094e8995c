"""The golden path, by clicking in Chromium: upload → report → flow → export → train → deploy →
prediction; and a bad value in the test form shows its error inline.

One real server for the module. Each step waits for what a person would wait
for (a job to end, an endpoint to come up), and every page it lands on is
saved under tests/browser/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from sageforge.datasets import sample_path

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOB_TIMEOUT_S = 150


def until(page: Any, ready: Callable[[], bool], what: str, timeout: float = JOB_TIMEOUT_S) -> None:
    """Reload `page` until `ready()` (pages also refresh themselves; this bounds the wait)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        page.wait_for_timeout(1500)
        if not ready():
            page.reload()


def add_step(page: Any, step: str, fill: Callable[[], None] | None = None) -> None:
    """Pick `step` in the builder's catalogue, fill its form, add it, and wait for the page."""
    page.locator(f'nav.catalogue a[href*="add={step}#"]').click()
    form = page.locator("#step-params")
    form.wait_for()
    if fill:
        fill()
    count = page.locator("ol.steps > li").count()
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    assert page.locator("#step-params .error:not([hidden])").count() == 0, page.inner_text("#step-params")  # fmt: skip
    assert page.locator("ol.steps > li").count() == max(count, 1) + 1, f"step {step} was not added"


LIST_PAGES = (
    "/", "/data", "/data/upload", "/flows", "/flows/new", "/jobs", "/jobs?kind=training",
    "/jobs?status=Failed", "/train", "/tuning", "/models", "/endpoints", "/endpoints?status=Failed",
    "/transform",
)  # fmt: skip


def visit(page: Any, shot: Any, url: str, status: int | None = None) -> None:
    """Open `url`; it must answer (never 500), in the layout, with a heading; screenshot it."""
    response = page.goto(url)
    assert response is not None, url
    assert response.status < 500, f"{url} answered {response.status}"
    if status is not None:
        assert response.status == status, f"{url} answered {response.status}, not {status}"
    standalone = url.startswith("/predict/") or url.endswith("/report")  # pages of their own
    if not standalone:
        assert page.locator("h1").count() >= 1, f"{url} has no heading"
        assert page.get_by_role("navigation", name="Main").count() == 1, f"{url} lost the nav"
    if response.status == 404:  # a way back from a missing resource
        assert page.locator("main a.button").count() >= 1, f"{url}: 404 without a link back"
    shot(url.strip("/").replace("/", "-").replace("?", "-") or "home")


def test_every_list_page_renders_empty(page: Any, shot: Any) -> None:
    for url in LIST_PAGES:
        visit(page, shot, url, 200)


def test_golden_path(page: Any, shot: Any) -> None:
    # -- upload the sample CSV ------------------------------------------------------------------
    page.goto("/")
    shot("home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    shot("data")
    page.goto("/data/upload")
    page.fill("#f-dataset_name", "churn")
    page.set_input_files("#f-file", str(sample_path("untidy_churn")))
    with page.expect_navigation(url=re.compile(r"/data/churn$")):
        page.click("#upload-submit")
    shot("dataset")

    # -- its Data Quality and Insights report ------------------------------------------------------
    page.select_option("form[action='/data/churn/report'] select[name=target]", "churn")
    with page.expect_navigation():
        page.locator("form[action='/data/churn/report'] button[type=submit]").click()
    shot("report-running")
    report = page.get_by_role("link", name="Open the full report")
    until(page, lambda: report.count() > 0, "the insights report")
    shot("report-ready")
    with page.context.expect_page() as opened:
        report.click()
    full = opened.value
    full.wait_for_load_state()
    assert "leak" in full.content().lower() or "insights" in full.content().lower()
    shot("full-report", page=full)
    full.close()

    # -- a flow of nine steps --------------------------------------------------------------------
    page.get_by_role("link", name="Build a flow").click()
    page.fill("#f-flow_name", "churn-prep")
    if page.locator("select#f-target").count():
        page.select_option("#f-target", "churn")
    else:
        page.fill("#f-target", "churn")
    with page.expect_navigation(url=re.compile(r"/flows/churn-prep")):
        page.get_by_role("button", name="Create flow").click()
    shot("flow-new")

    add_step(page, "drop_columns",
             lambda: page.select_option("#f-columns", ["customer_id", "cancellation_fee"]))  # fmt: skip

    def strip() -> None:
        page.select_option(
            "#f-columns", ["churn", "contract", "internet_service", "payment_method"]
        )
        page.select_option("#f-operation", "strip")

    add_step(page, "format_string", strip)

    def lower() -> None:
        page.select_option("#f-columns", ["churn", "internet_service"])
        page.select_option("#f-operation", "lower")

    add_step(page, "format_string", lower)

    def mapping() -> None:
        page.select_option("#f-column", "churn")
        page.fill("#f-mapping", '{"yes": 1, "no": 0}')

    add_step(page, "map_values", mapping)
    add_step(page, "impute",
             lambda: page.select_option("#f-columns", ["tenure_months", "monthly_charges"]))  # fmt: skip

    def fill_missing() -> None:
        page.select_option("#f-columns", ["payment_method"])
        page.fill("#f-value", "unknown")

    add_step(page, "fill_missing", fill_missing)
    add_step(page, "ordinal_encode", lambda: page.select_option("#f-columns", ["contract"]))
    add_step(page, "one_hot_encode",
             lambda: page.select_option("#f-columns", ["internet_service", "payment_method", "paperless_billing"]))  # fmt: skip
    add_step(page, "split")
    shot("flow-steps")
    assert page.locator("ol.steps > li").count() >= 6  # the source row and at least five steps

    settings = page.locator("#settings form")
    settings.locator("#f-destination_url").fill("store://prepared/churn-studio")
    settings.locator("#f-destination_format").select_option("xgboost")
    with page.expect_navigation():
        settings.get_by_role("button", name="Apply settings").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    shot("flow-saved")

    # -- export, then train XGBoost on the splits -------------------------------------------------
    with page.expect_navigation():
        page.click("#export-button")
    shot("flow-exporting")
    status = page.locator("#job-status")
    until(page, lambda: re.search(r"Completed|Failed|Stopped", status.inner_text()) is not None,
          "the flow's export job")  # fmt: skip
    assert "Completed" in status.inner_text(), page.inner_text("main")
    shot("flow-exported")
    train_link = page.get_by_role("link", name="Train XGBoost")
    if train_link.count() == 0:  # back to the flow, as a person would, for its Train action
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows").click()
        page.get_by_role("link", name="churn-prep", exact=True).click()
    train_link.click()
    page.fill("#f-num_round", "20")
    shot("train-form")
    with page.expect_navigation(url=re.compile(r"/jobs/training/")):
        page.click("#train-submit")
    shot("training")
    deploy = page.locator("#deploy-job")
    until(page, lambda: deploy.count() > 0 or "Failed" in page.inner_text("#job-status"),
          "the training job")  # fmt: skip
    assert deploy.count() > 0, page.inner_text("main")
    shot("trained")

    # -- deploy: a model from the job, then an endpoint from the model -------------------------------
    with page.expect_navigation(url=re.compile(r"/models/")):
        deploy.click()
    shot("model")
    assert page.locator("#inputs").count() == 1
    page.fill("#f-endpoint_name", "churn-studio")
    with page.expect_navigation(url=re.compile(r"/endpoints/churn-studio$")):
        page.click("#deploy-submit")
    shot("endpoint-creating")
    page.locator("#test-submit:not([disabled])").wait_for(timeout=JOB_TIMEOUT_S * 1000)
    assert "InService" in page.inner_text("#endpoint-status")
    shot("endpoint-in-service")

    # -- the test form: a prediction for the example record ------------------------------------------
    labels = page.locator("#test-form .field label")
    assert labels.filter(has_text="tenure_months").count() == 1  # the raw columns, by name
    assert labels.filter(has_text="customer_id").count() == 0  # dropped by the flow: not asked
    with page.expect_navigation():
        page.click("#test-submit")
    value = page.locator("#prediction-value")
    value.wait_for()
    score = float(value.inner_text().strip())
    assert 0.0 <= score <= 1.0, score
    assert "probability" in page.inner_text("#prediction-meaning")
    shot("prediction")

    # -- an invalid value shows its error beside the field, and nothing is sent ---------------------
    tenure = page.locator("#test-form input[data-column='tenure_months']")
    tenure.fill("twelve")
    with page.expect_navigation():
        page.click("#test-submit")
    tenure = page.locator("#test-form input[data-column='tenure_months']")
    error = page.locator(f"#{tenure.get_attribute('id')}-error")
    assert error.is_visible()
    assert "whole number" in error.inner_text()
    assert tenure.get_attribute("aria-invalid") == "true"
    assert page.locator("#prediction").count() == 0
    shot("invalid-input")

    # -- the shareable prediction page, without Studio's navigation ---------------------------------
    page.goto("/predict/churn-studio")
    assert page.locator("header nav").count() == 0
    page.locator("#test-form select, #test-form input").first.wait_for()
    with page.expect_navigation():
        page.click("#test-submit")
    assert 0.0 <= float(page.inner_text("#prediction-value")) <= 1.0
    shot("predict-page")

    # -- the endpoint's charts show the traffic once the deploy service sampled it ----------------------
    page.goto("/endpoints/churn-studio")
    until(page, lambda: page.locator("#chart-invocations .main-svg").count() > 0,
          "the endpoint's first metric sample", timeout=40)  # fmt: skip
    shot("endpoint-metrics")


def test_every_page_renders_in_every_state(
    page: Any, shot: Any, server: Any, tmp_path: Any
) -> None:
    """After the golden path, add running, failed and deleted resources; open every page."""
    session = server.session()
    api = session.api
    (tmp_path / "sleep.py").write_text("import time\ntime.sleep(120)\n")
    (tmp_path / "fail.py").write_text("raise SystemExit('this script fails on purpose')\n")
    running = session.create_training_job(
        "sweep-running", entry_point="sleep.py", source_dir=tmp_path
    )
    failed = session.create_training_job("sweep-failed", entry_point="fail.py", source_dir=tmp_path)
    broken = session.upload_bytes(b"not a model", "models/broken/model.tar.gz")
    api.post("/models", {"model_name": "broken", "primary_container": {"model_data_url": broken, "algorithm_name": "xgboost"}})  # fmt: skip
    api.post("/endpoint-configs", {"endpoint_config_name": "broken", "production_variants": [{"variant_name": "AllTraffic", "model_name": "broken"}]})  # fmt: skip
    api.post("/endpoints", {"endpoint_name": "broken", "endpoint_config_name": "broken"})
    garbage = session.upload_bytes(b"a,b\nnot,numbers\n", "data/garbage/part.csv")
    api.post(
        "/transform-jobs",
        {"transform_job_name": "sweep-transform", "model_name": "broken",
         "transform_input": {"data_source": {"s3_data_source": {"s3_uri": garbage}}, "content_type": "text/csv", "split_type": "Line"},
         "transform_output": {"s3_output_path": "store://transform/sweep"}},
    )  # fmt: skip
    failed.wait()
    visit(page, shot, f"/jobs/training/{running.name}")  # running
    assert "InProgress" in page.inner_text("#job-status")
    visit(page, shot, "/endpoints/broken")  # Creating or Failed

    urls = list(LIST_PAGES)
    urls += [f"/data/{d['dataset_name']}" for d in api.get("/datasets")["dataset_summaries"]]
    urls += [f"/data/{d['dataset_name']}/report" for d in api.get("/datasets")["dataset_summaries"]]
    urls += [f"/flows/{f['flow_name']}" for f in api.get("/flows")["flow_summaries"]]
    for kind in ("training", "processing"):
        jobs = api.get(f"/{kind}-jobs")[f"{kind}_job_summaries"]
        urls += [f"/jobs/{kind}/{j[f'{kind}_job_name']}" for j in jobs]
    urls += [f"/transform/{j['transform_job_name']}" for j in api.get("/transform-jobs")["transform_job_summaries"]]  # fmt: skip
    urls += [f"/models/{m['model_name']}" for m in api.get("/models")["models"]]
    for e in api.get("/endpoints")["endpoints"]:
        urls += [f"/endpoints/{e['endpoint_name']}", f"/predict/{e['endpoint_name']}"]
    for url in urls:
        visit(page, shot, url)

    # Deleted (and never existing) resources: a 404 page with a way back, never a 500.
    api.request("DELETE", "/endpoints/churn-studio")
    deadline = time.monotonic() + 30
    while any(e["endpoint_name"] == "churn-studio" for e in api.get("/endpoints")["endpoints"]):
        assert time.monotonic() < deadline, "the endpoint was not deleted"
        time.sleep(0.3)
    for url in ("/endpoints/churn-studio", "/predict/churn-studio", "/models/nope", "/data/nope",
                "/flows/nope", "/jobs/training/nope", "/tuning/nope", "/transform/nope", "/nowhere"):  # fmt: skip
        visit(page, shot, url, 404)
    api.post(f"/training-jobs/{running.name}/stop")
