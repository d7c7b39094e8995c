"""Studio's deployment pages over HTTP against a real server: models, endpoints, the test form,
the prediction page, weights, transform jobs — every state renders, errors show inline.

One module-scoped server; tests run in file order and build on each other's resources.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from sageforge.sdk import Session

pytestmark = pytest.mark.e2e

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def web(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=HTML, timeout=60) as client:
        yield client


def page(web: httpx.Client, url: str, status: int = 200) -> str:
    r = web.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:2000])
    assert r.headers["content-type"].startswith("text/html"), url
    assert "Traceback" not in r.text
    return r.text


def post(web: httpx.Client, url: str, data: dict[str, str] | None = None, status: int = 303) -> httpx.Response:  # fmt: skip
    r = web.post(url, data=data or {})
    assert r.status_code == status, (url, r.status_code, r.text[:3000])
    return r


def error_of(text: str, field: str) -> str:
    """The inline error beside input `field` ('' when none is shown)."""
    m = re.search(
        rf'<p class="error" id="f-{field}-error" role="alert"( hidden)?>([^<]*)</p>', text
    )
    assert m, f"no error slot for {field}"
    return "" if m.group(1) else html.unescape(m.group(2))


def wait_endpoint(session: Session, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        d = session.api.get(f"/endpoints/{name}/wait", timeout=10)
        if d["endpoint_status"] not in ("Creating", "Updating", "SystemUpdating", "Deleting"):
            return d  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, d
        time.sleep(0.2)


DEPLOY = {
    "endpoint_name": "tiny",
    "instance_count": "1",
    "variant_name": "AllTraffic",
    "capture": "true",
    "capture_percentage": "100",
    "capture_destination": "store://capture/tiny",
}


def test_empty_lists_say_what_to_do(web: httpx.Client) -> None:
    assert "No models yet" in page(web, "/models")
    assert "No endpoints yet" in page(web, "/endpoints")
    assert "No batch transform jobs yet" in page(web, "/transform")
    for missing in ("/models/nope", "/endpoints/nope", "/transform/nope", "/predict/nope"):
        text = page(web, missing, 404)
        assert "nope" in text and 'class="button"' in text  # says what is missing, links back


def test_a_model_without_history_asks_for_its_numeric_features(
    web: httpx.Client, session: Session, tiny_xgboost: Any
) -> None:
    session.api.post(
        "/models",
        {"model_name": "tiny", "primary_container": {"model_data_url": tiny_xgboost.url, "algorithm_name": "xgboost"}},
    )  # fmt: skip
    listing = page(web, "/models")
    assert 'href="/models/tiny"' in listing and "built-in xgboost" in listing
    text = page(web, "/models/tiny")
    assert "4 numeric features" in text  # read from the XGBoost artifact itself
    assert 'id="deploy-form"' in text and 'value="tiny"' in text


def test_deploy_form_errors_show_beside_their_fields(web: httpx.Client) -> None:
    bad_name = post(web, "/models/tiny/deploy", {**DEPLOY, "endpoint_name": "no spaces"}, 400).text
    assert "not a valid name" in error_of(bad_name, "endpoint_name")
    assert 'value="no spaces"' in bad_name  # what was typed is kept
    zero = post(web, "/models/tiny/deploy", {**DEPLOY, "instance_count": "0"}, 400).text
    assert error_of(zero, "instance_count") and not error_of(zero, "endpoint_name")
    words = post(web, "/models/tiny/deploy", {**DEPLOY, "instance_count": "two"}, 400).text
    assert "whole number" in error_of(words, "instance_count")
    pct = post(web, "/models/tiny/deploy", {**DEPLOY, "capture_percentage": "150"}, 400).text
    assert error_of(pct, "capture_percentage")
    dest = post(web, "/models/tiny/deploy", {**DEPLOY, "capture_destination": "nowhere"}, 400).text
    assert "nowhere" in error_of(dest, "capture_destination")
    page(web, "/endpoints/tiny", 404)  # nothing was created by the failed attempts
    post(web, "/models/gone/deploy", DEPLOY, 404)


def test_deploy_then_predict_with_the_test_form(
    web: httpx.Client, session: Session, tiny_xgboost: Any
) -> None:
    r = post(web, "/models/tiny/deploy", DEPLOY)
    assert r.headers["location"] == "/endpoints/tiny"
    first = page(web, "/endpoints/tiny")
    assert "Creating" in first or "InService" in first
    again = post(web, "/models/tiny/deploy", DEPLOY, 400).text
    assert "already exists" in error_of(again, "endpoint_name")
    assert wait_endpoint(session, "tiny")["endpoint_status"] == "InService"

    text = page(web, "/endpoints/tiny")
    assert "store://capture/tiny" in text  # the data capture location
    assert 'href="/models/tiny"' in text and "100%" in text  # the variant and its share
    assert text.count('name="feature') == 4 and "Get a prediction" in text

    row = [0.5, -1.25, 2.0, 0.0]
    form = {f"feature{i}": str(v) for i, v in enumerate(row)}
    answer = post(web, "/endpoints/tiny/test", form, 200).text
    value = re.search(r'id="prediction-value">([^<]+)<', answer)
    assert value, answer[-3000:]
    expected = float(np.asarray(tiny_xgboost.scores([row]))[0])
    assert float(value.group(1)) == pytest.approx(expected, rel=1e-5)
    assert "AllTraffic" in answer

    invalid = post(web, "/endpoints/tiny/test", {**form, "feature2": "lots"}, 400).text
    assert error_of(invalid, "feature2") == "f2 must be a number, like 42 or 3.5"
    assert 'value="lots"' in invalid and 'id="prediction"' not in invalid

    standalone = page(web, "/predict/tiny")
    assert "<nav" not in standalone and 'action="/predict/tiny#prediction"' in standalone
    answered = post(web, "/predict/tiny", form, 200).text
    assert re.search(r'id="prediction-value">([^<]+)<', answered)
    assert "must be a number" in error_of(post(web, "/predict/tiny", {**form, "feature0": "x"}, 400).text, "feature0")  # fmt: skip

    # The requests above went through the endpoint: its describe counts them, and data
    # capture recorded them where the endpoint page says.
    stats = session.api.get("/endpoints/tiny")["metrics"]["AllTraffic"]
    assert stats["invocations"] >= 2
    deadline = time.monotonic() + 20
    while not [o for o in session.list_store("capture/tiny/tiny/AllTraffic") if o["key"].endswith(".jsonl")]:  # fmt: skip
        assert time.monotonic() < deadline, "no capture file"
        time.sleep(0.5)
    listing = page(web, "/endpoints")
    assert 'href="/endpoints/tiny"' in listing and "InService" in listing
    assert 'href="/endpoints/tiny"' in page(web, "/endpoints?status=InService")
    assert "No endpoint matches" in page(web, "/endpoints?status=Failed")
    assert 'href="/endpoints/tiny"' in page(web, "/models/tiny")  # the model knows where it runs


def test_traffic_weights_between_two_variants(
    web: httpx.Client, session: Session, make_tiny_xgboost: Any
) -> None:
    other = make_tiny_xgboost("models/other/model.tar.gz", 1)
    session.api.post("/models", {"model_name": "other", "primary_container": {"model_data_url": other.url, "algorithm_name": "xgboost"}})  # fmt: skip
    session.api.post(
        "/endpoint-configs",
        {
            "endpoint_config_name": "ab",
            "production_variants": [
                {"variant_name": "A", "model_name": "tiny", "initial_variant_weight": 1},
                {"variant_name": "B", "model_name": "other", "initial_variant_weight": 1},
            ],
        },
    )
    session.api.post("/endpoints", {"endpoint_name": "ab", "endpoint_config_name": "ab"})
    wait_endpoint(session, "ab")
    text = page(web, "/endpoints/ab")
    assert "50%" in text and 'name="weight-A"' in text
    bad = post(web, "/endpoints/ab/weights", {"weight-A": "-1", "weight-B": "1"}, 400).text
    assert error_of(bad, "weight-A") and not error_of(bad, "weight-B")
    none = post(web, "/endpoints/ab/weights", {"weight-A": "0", "weight-B": "0"}, 400).text
    assert "above 0" in none
    post(web, "/endpoints/ab/weights", {"weight-A": "3", "weight-B": "1"})
    assert wait_endpoint(session, "ab")["endpoint_status"] == "InService"
    text = page(web, "/endpoints/ab")
    assert "75%" in text and "25%" in text


def test_a_model_served_by_an_endpoint_cannot_be_deleted(web: httpx.Client) -> None:
    refused = post(web, "/models/other/delete", status=409).text
    assert "delete the endpoint first" in refused


def test_a_deleted_endpoint_shows_not_found_with_a_way_back(
    web: httpx.Client, session: Session
) -> None:
    r = post(web, "/endpoints/ab/delete")
    assert r.headers["location"] == "/endpoints"
    deadline = time.monotonic() + 30
    while web.get("/endpoints/ab").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    text = page(web, "/endpoints/ab", 404)
    assert 'href="/endpoints"' in text
    post(web, "/models/other/delete")
    page(web, "/models/other", 404)


def test_a_failed_endpoint_shows_its_reason(web: httpx.Client, session: Session) -> None:
    url = session.upload_bytes(b"not a tarball", "models/broken/model.tar.gz")
    session.api.post("/models", {"model_name": "broken", "primary_container": {"model_data_url": url, "algorithm_name": "xgboost"}})  # fmt: skip
    post(web, "/models/broken/deploy", {**DEPLOY, "endpoint_name": "broken", "capture": ""})
    assert wait_endpoint(session, "broken")["endpoint_status"] == "Failed"
    text = page(web, "/endpoints/broken")
    assert 'id="failure-reason"' in text and "Failed" in text
    assert "answers once it is InService" in text  # the test form says why it is off
    refused = post(web, "/endpoints/broken/test", {"body": "1,2,3,4"}, 409).text
    assert "Failed" in refused
    assert "broken" in page(web, "/endpoints?status=Failed")


def test_deploy_a_completed_training_job(web: httpx.Client, session: Session) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    lines = "\n".join(",".join([str(t)] + [f"{v:.4f}" for v in x]) for t, x in zip(y, X, strict=True))  # fmt: skip
    train = session.upload_bytes(lines.encode(), "data/plain/train/part.csv")
    job = session.create_training_job(
        "plain-xgb",
        algorithm="xgboost",
        inputs={"train": {"uri": train, "content_type": "text/csv"}},
        hyperparameters={"num_round": 5, "objective": "binary:logistic"},
    )
    assert job.wait()["training_job_status"] == "Completed"
    r = post(web, "/jobs/training/plain-xgb/deploy")
    assert r.headers["location"] == "/models/plain-xgb#deploy"
    text = page(web, "/models/plain-xgb")
    assert "training job plain-xgb" in text and "3 inputs" in text
    assert f"<td>{X[0][0]:.4f}</td>" in text  # the first training row is the example record
    # Deploying the same job again finds the model rather than making another.
    assert post(web, "/jobs/training/plain-xgb/deploy").headers["location"] == "/models/plain-xgb#deploy"  # fmt: skip
    post(web, "/jobs/training/nope/deploy", status=404)


def test_transform_jobs_from_a_model(web: httpx.Client, session: Session) -> None:
    rows = "\n".join(",".join(str(v) for v in r) for r in np.random.default_rng(0).normal(size=(20, 4)))  # fmt: skip
    data = session.upload_bytes(rows.encode(), "data/batch/part-0.csv")
    form = {
        "job_name": "score-tiny",
        "input_url": "store://data/batch",
        "output_url": "store://transform/score-tiny",
        "content_type": "text/csv",
        "split_type": "Line",
        "batch_strategy": "MultiRecord",
        "instance_count": "1",
    }
    missing = post(
        web, "/models/tiny/transform", {**form, "input_url": "store://data/none"}, 400
    ).text
    assert "nothing found" in error_of(missing, "input_url")
    assert data
    r = post(web, "/models/tiny/transform", form)
    assert r.headers["location"] == "/transform/score-tiny"
    assert "score-tiny" in page(web, "/transform/score-tiny")
    deadline = time.monotonic() + 90
    while session.api.get("/transform-jobs/score-tiny")["transform_job_status"] == "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    done = page(web, "/transform/score-tiny")
    assert "Completed" in done and "store://transform/score-tiny" in done
    assert 'href="/transform/score-tiny"' in page(web, "/transform")
    assert 'href="/transform/score-tiny"' in page(web, "/models/tiny")
    assert "No transform job matches" in page(web, "/transform?status=Failed")
    assert "already" in post(web, "/transform/score-tiny/stop", status=400).text  # it ended
