"""CloudWatch Logs operations (`Logs_20140328.*`) over sageforge's job and endpoint logs.

Just what the SageMaker SDK's `logs=True` waits and `sagemaker.logs` use:
DescribeLogStreams to find a job's streams and GetLogEvents to read them,
with CloudWatch's paging (forward/backward tokens that stand still at the end
of a stream, which is how a tailing client knows it has caught up).
"""

from __future__ import annotations

import bisect
from typing import Any

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError
from sageforge.compat._json_protocol import operation
from sageforge.compat.logs._reader import LogFileIndex
from sageforge.compat.logs._sources import Stream, find_stream, list_streams

MAX_RESPONSE_BYTES = 1_048_576
"""GetLogEvents answers at most 1 MB of events, as CloudWatch does."""
_EVENT_OVERHEAD = 26

_INDEX = LogFileIndex()


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _group(params: dict[str, Any]) -> str:
    name, ident = params.get("logGroupName"), params.get("logGroupIdentifier")
    if name and ident:
        raise _invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if ident:
        # arn:aws:logs:<region>:<account>:log-group:<name>[:*]
        if ident.startswith("arn:"):
            parts = ident.split(":log-group:", 1)
            if len(parts) != 2:
                raise _invalid(f"logGroupIdentifier {ident!r} is not a log group ARN")
            return parts[1].removesuffix(":*")
        return str(ident)
    if not name:
        raise _invalid("Either logGroupName or logGroupIdentifier must be specified.")
    return str(name)


def _events(stream: Stream) -> tuple[list[str], list[int]]:
    parsed = _INDEX.read(stream.path, stream.creation_ms)
    messages, stamps = parsed.messages, parsed.timestamps
    if stream.finished and parsed.tail:
        messages, stamps = [*messages, parsed.tail], [*stamps, parsed.last_ms]
    return messages, stamps


@operation("Logs_20140328", "DescribeLogStreams")
def describe_log_streams(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    """The streams of a job log group (one per job) or an endpoint's (one per worker)."""
    group = _group(params)
    prefix = params.get("logStreamNamePrefix", "")
    order = params.get("orderBy", "LogStreamName")
    if order == "LastEventTime" and prefix:
        raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    streams = list_streams(ctx.platform.db, ctx.platform.settings.home, group, prefix)
    described = [_describe(ctx, group, st) for st in streams]
    if order == "LastEventTime":
        described.sort(key=lambda d: (d.get("lastEventTimestamp", 0), d["logStreamName"]))
    if params.get("descending"):
        described.reverse()
    start = _offset_token(params.get("nextToken"))
    limit = params.get("limit", 50)
    page = described[start : start + limit]
    out: dict[str, Any] = {"logStreams": page}
    if start + limit < len(described):
        out["nextToken"] = str(start + limit)
    return out


def _describe(ctx: AwsContext, group: str, stream: Stream) -> dict[str, Any]:
    _, stamps = _events(stream)
    item: dict[str, Any] = {
        "logStreamName": stream.name,
        "creationTime": stream.creation_ms,
        "arn": f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{group}:log-stream:{stream.name}",
        "storedBytes": stream.path.stat().st_size if stream.path.exists() else 0,
    }
    if stamps:
        item["firstEventTimestamp"] = stamps[0]
        item["lastEventTimestamp"] = stamps[-1]
        item["lastIngestionTime"] = stamps[-1]
    return item


def _offset_token(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise _invalid("The specified nextToken is invalid.")
    return int(token)


@operation("Logs_20140328", "GetLogEvents")
def get_log_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    """A page of a stream's events, oldest first, with CloudWatch's paging tokens."""
    group = _group(params)
    stream = find_stream(
        ctx.platform.db, ctx.platform.settings.home, group, params["logStreamName"]
    )
    messages, stamps = _events(stream)
    low = bisect.bisect_left(stamps, params["startTime"]) if "startTime" in params else 0
    high = bisect.bisect_left(stamps, params["endTime"]) if "endTime" in params else len(stamps)
    high = max(low, high)
    limit = params.get("limit", 10_000)
    token = params.get("nextToken")
    if token is not None:
        direction, _, number = token.partition("/")
        if direction not in ("f", "b") or not number.isdigit():
            raise _invalid("The specified nextToken is invalid.")
        forward, at = direction == "f", int(number)
    else:
        forward, at = (
            bool(params.get("startFromHead")),
            low if params.get("startFromHead") else high,
        )
    if forward:
        start = min(max(at, low), high)
        end = _forward_end(messages, start, min(high, start + limit))
    else:
        end = max(min(at, high), low)
        start = _backward_start(messages, max(low, end - limit), end)
    events = [
        {"timestamp": stamps[i], "message": messages[i], "ingestionTime": stamps[i]}
        for i in range(start, end)
    ]
    return {"events": events, "nextForwardToken": f"f/{end}", "nextBackwardToken": f"b/{start}"}


def _forward_end(messages: list[str], start: int, end: int) -> int:
    size = 0
    for i in range(start, end):
        size += len(messages[i].encode()) + _EVENT_OVERHEAD
        if size > MAX_RESPONSE_BYTES and i > start:
            return i
    return end


def _backward_start(messages: list[str], start: int, end: int) -> int:
    size = 0
    for i in range(end - 1, start - 1, -1):
        size += len(messages[i].encode()) + _EVENT_OVERHEAD
        if size > MAX_RESPONSE_BYTES and i < end - 1:
            return i + 1
    return start
