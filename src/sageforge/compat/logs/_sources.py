"""Which sageforge log files a CloudWatch log group and stream stand for.

SageMaker writes a job's log to group `/aws/sagemaker/<Kind>Jobs`, stream
`<job-name>/algo-1-<epoch>`, and an endpoint's to `/aws/sagemaker/Endpoints/<name>`,
stream `<variant>/<instance>`. sageforge keeps a job's output in its working
folder (`logs/output.log`) and each endpoint worker's in
`<home>/endpoints/<name>/logs/<variant>-<fleet>-<slot>.log`; this module maps
one naming onto the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from sageforge.compat._errors import AwsError
from sageforge.core.db import Database, Job
from sageforge.core.jobs._layout import JobLayout

GROUP_PREFIX = "/aws/sagemaker/"
JOB_GROUPS = {
    "/aws/sagemaker/TrainingJobs": "training",
    "/aws/sagemaker/ProcessingJobs": "processing",
    "/aws/sagemaker/TransformJobs": "transform",
}
ENDPOINT_GROUP = "/aws/sagemaker/Endpoints/"
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


@dataclass(frozen=True)
class Stream:
    """One log stream: its name, file, and the times that frame it (epoch ms)."""

    name: str
    path: Path
    creation_ms: int
    finished: bool
    """No more lines will come: a trailing line without newline is complete."""


def group_not_found(group: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"The specified log group does not exist: {group}")


def stream_not_found(group: str, stream: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"The specified log stream does not exist: {stream} in {group}",
    )


def _ms(job_time: object) -> int:
    return int(job_time.timestamp() * 1000) if job_time is not None else 0  # type: ignore[attr-defined]


def job_stream_name(job: Job) -> str:
    """SageMaker's stream name for a job's (single) instance."""
    return f"{job.name}/algo-1-{int(job.creation_time.timestamp())}"


def _job_stream(job: Job) -> Stream:
    return Stream(
        name=job_stream_name(job),
        path=JobLayout(Path(job.workdir)).log_file,
        creation_ms=_ms(job.start_time or job.creation_time),
        finished=job.status in TERMINAL,
    )


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def list_streams(db: Database, home: Path, group: str, prefix: str) -> list[Stream]:
    """The streams of a group whose name starts with `prefix`, by name."""
    kind = JOB_GROUPS.get(group)
    if kind is not None:
        job_prefix = prefix.split("/", 1)[0]
        with db.session() as s:
            query = sa.select(Job).where(Job.kind == kind)
            if job_prefix:
                query = query.where(Job.name.like(_like_prefix(job_prefix), escape="\\"))
            jobs = s.scalars(query).all()
        streams = [_job_stream(j) for j in jobs]
        streams = [st for st in streams if st.name.startswith(prefix) and st.path.exists()]
        return sorted(streams, key=lambda st: st.name)
    if group.startswith(ENDPOINT_GROUP):
        return [st for st in _endpoint_streams(db, home, group) if st.name.startswith(prefix)]
    raise group_not_found(group)


def find_stream(db: Database, home: Path, group: str, name: str) -> Stream:
    """The stream called `name` in `group`, or AWS's ResourceNotFoundException."""
    kind = JOB_GROUPS.get(group)
    if kind is not None:
        job_name = name.split("/", 1)[0]
        with db.session() as s:
            job = s.scalar(sa.select(Job).where(Job.kind == kind, Job.name == job_name))
            stream = _job_stream(job) if job is not None else None
        if stream is None or stream.name != name:
            raise stream_not_found(group, name)
        return stream
    if group.startswith(ENDPOINT_GROUP):
        for stream in _endpoint_streams(db, home, group):
            if stream.name == name:
                return stream
        raise stream_not_found(group, name)
    raise group_not_found(group)


def _endpoint_streams(db: Database, home: Path, group: str) -> list[Stream]:
    endpoint = group[len(ENDPOINT_GROUP) :]
    folder = home / "endpoints" / endpoint / "logs"
    if not endpoint or "/" in endpoint or not folder.is_dir():
        raise group_not_found(group)
    from sageforge.deploy._models import Endpoint

    with db.session() as s:
        created = s.scalar(sa.select(Endpoint.creation_time).where(Endpoint.name == endpoint))
    # Worker lines rarely carry a time stamp; the endpoint's creation time is a stable base.
    base_ms = _ms(created)
    # A worker log's stem is `<variant>-<fleet>-<slot>`; it names the stream as is.
    return [
        Stream(name=path.stem, path=path, creation_ms=base_ms, finished=created is None)
        for path in sorted(folder.glob("*.log"))
    ]
