"""GetMetricStatistics and ListMetrics, on params already validated against botocore's model.

Protocol-neutral: `_wire` decodes the query, JSON 1.0 or rpc-v2-cbor request
into the same params and encodes the returned dict back.
"""

from __future__ import annotations

from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat.cloudwatch._series import (
    ENDPOINT_METRICS,
    ENDPOINT_NAMESPACE,
    TRAINING_NAMESPACE,
    all_metrics,
    endpoint_samples,
    training_samples,
)
from sageforge.compat.cloudwatch._statistics import Sample, check_request, datapoints, invalid

LIST_PAGE = 500


def get_metric_statistics(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    """Statistics of one metric per period; a metric without data answers no datapoints."""
    start, end, period = params["StartTime"], params["EndTime"], params["Period"]
    stats: list[str] = params.get("Statistics", [])
    extended: list[str] = params.get("ExtendedStatistics", [])
    check_request(start, end, period, stats, extended)
    namespace, name = params["Namespace"], params["MetricName"]
    dims = {d["Name"]: d.get("Value", "") for d in params.get("Dimensions", [])}
    db = ctx.platform.db
    samples: list[Sample] = []
    unit = "None"
    if namespace == TRAINING_NAMESPACE and set(dims) == {"TrainingJobName"}:
        samples = training_samples(db, dims["TrainingJobName"], name)
    elif (
        namespace == ENDPOINT_NAMESPACE
        and name in ENDPOINT_METRICS
        and set(dims) == {"EndpointName", "VariantName"}
    ):
        samples = endpoint_samples(db, dims["EndpointName"], dims["VariantName"], name)
        unit = ENDPOINT_METRICS[name]
    requested = params.get("Unit")
    if requested is not None and requested != unit:
        samples = []  # CloudWatch matches the unit too
    points = datapoints(
        samples,
        start=start,
        end=end,
        period=period,
        stats=stats,
        extended=extended,
        unit=unit,
    )
    return {"Label": name, "Datapoints": points}


def list_metrics(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    """Metrics that have data, filtered by namespace, name and dimensions; 500 a page."""
    namespace, name = params.get("Namespace"), params.get("MetricName")
    wanted = [(d["Name"], d.get("Value")) for d in params.get("Dimensions", [])]
    found = []
    for metric in all_metrics(ctx.platform.db):
        if namespace is not None and metric.namespace != namespace:
            continue
        if name is not None and metric.name != name:
            continue
        dims = dict(metric.dimensions)
        if any(k not in dims or (v is not None and dims[k] != v) for k, v in wanted):
            continue
        found.append(metric.to_dict())
    token = params.get("NextToken")
    if token is not None and not token.isdigit():
        raise invalid("The value for parameter NextToken is not valid.")
    start = int(token or 0)
    out: dict[str, Any] = {"Metrics": found[start : start + LIST_PAGE]}
    if start + LIST_PAGE < len(found):
        out["NextToken"] = str(start + LIST_PAGE)
    return out


OPERATIONS = {
    "GetMetricStatistics": get_metric_statistics,
    "ListMetrics": list_metrics,
}
