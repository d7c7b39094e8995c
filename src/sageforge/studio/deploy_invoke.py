"""Sending a test request to an endpoint and reading its answer for a person.

The request goes straight to the endpoint's own data plane (its socket on
127.0.0.1), as the runtime route does: the endpoint's workers pick the variant
by weight, count the call in its metrics and capture it, exactly like any
client's request. The answer is shown as the model wrote it and, when it is
numbers, as the prediction they mean.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from sageforge.core.errors import ResourceInUse

TIMEOUT_S = 60.0
VARIANT_HEADER = "x-amzn-invoked-production-variant"


@dataclass
class Answer:
    """What the endpoint said, and the prediction read from it."""

    status: int
    body: str
    content_type: str
    variant: str | None
    latency_ms: float
    request_body: str
    request_content_type: str
    values: list[Any] = field(default_factory=list)
    """The numbers (or labels) of the answer, flattened, when it has any."""
    error: str | None = None
    """The model's own error message for a 4xx/5xx answer."""

    @property
    def ok(self) -> bool:
        return self.status < 400


async def invoke(
    deploy: Any, endpoint: str, body: bytes, content_type: str, accept: str | None = None
) -> Answer:
    """POST `body` to the endpoint's data plane; ResourceInUse when it is not serving."""
    rt = deploy.supervisor.get(endpoint)
    if rt is None:
        raise ResourceInUse(
            f"endpoint {endpoint!r} is not InService; wait until it is", field="endpoint_name"
        )
    headers = {"content-type": content_type, "accept": accept or "*/*"}
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            r = await client.post(f"{rt.url}/invocations", content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ResourceInUse(
            f"endpoint {endpoint!r} did not answer ({type(exc).__name__}); it may be restarting",
            field="endpoint_name",
        ) from None
    elapsed = (time.perf_counter() - started) * 1000
    answer = Answer(
        status=r.status_code,
        body=r.text,
        content_type=r.headers.get("content-type", ""),
        variant=r.headers.get(VARIANT_HEADER),
        latency_ms=round(elapsed, 1),
        request_body=body.decode("utf-8", errors="replace"),
        request_content_type=content_type,
    )
    if answer.ok:
        answer.values = read_values(answer.body, answer.content_type)
    else:
        answer.error = _error_message(answer.body)
    return answer


def _error_message(text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        return text.strip()[:2000] or "the endpoint answered with an error and no message"
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(doc, dict) and doc.get("message"):
        return str(doc["message"])
    return text.strip()[:2000]


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        for key in ("predictions", "prediction", "scores", "score", "predicted_label", "label"):
            if key in value:
                return _flatten(value[key])
        return [value]
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_values(body: str, content_type: str) -> list[Any]:
    """The answer's values, flattened: `0.83` from CSV, JSON or JSON Lines alike."""
    base = content_type.split(";", 1)[0].strip().lower()
    text = body.strip()
    if not text:
        return []
    if base == "application/json" or (not base and text[:1] in "[{"):
        try:
            return _flatten(json.loads(text))
        except ValueError:
            return [text]
    if base in ("application/jsonlines", "application/x-jsonlines"):
        try:
            return [
                x for line in text.splitlines() if line.strip() for x in _flatten(json.loads(line))
            ]
        except ValueError:
            return [text]
    rows = csv.reader(io.StringIO(text))
    return [_number(cell.strip()) for row in rows for cell in row if cell.strip()]


def interpret(values: list[Any], objective: str | None) -> str | None:
    """One sentence on what a single answer means, from the training objective."""
    if len(values) != 1 or not isinstance(values[0], (int, float)):
        return None
    v = float(values[0])
    objective = (objective or "").lower()
    if objective.startswith("binary:logistic") or (
        not objective and 0.0 <= v <= 1.0 and isinstance(values[0], float)
    ):
        label = 1 if v >= 0.5 else 0
        return (
            f"probability of the positive class {v:.1%} → predicted class {label} (threshold 0.5)"
        )
    if objective.startswith("multi:softmax"):
        return f"predicted class {int(v)}"
    if objective.startswith("reg:"):
        return f"predicted value {v:,.4g}"
    return None
