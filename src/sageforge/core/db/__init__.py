"""The metadata DB: SQLAlchemy models, migrations and the Database handle."""

from sageforge.core.db._engine import Database, make_engine, upgrade
from sageforge.core.db._types import UTCDateTime, utcnow
from sageforge.core.db.models import Base, Job, JobMetric, JobStatusTransition, Tag

__all__ = [
    "Base",
    "Database",
    "Job",
    "JobMetric",
    "JobStatusTransition",
    "Tag",
    "UTCDateTime",
    "make_engine",
    "upgrade",
    "utcnow",
]
