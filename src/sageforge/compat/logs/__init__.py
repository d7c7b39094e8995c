"""CloudWatch Logs over sageforge's logs: job output and endpoint worker logs.

Importing the package registers its JSON 1.1 operations (`Logs_20140328.*`).
"""

from sageforge.compat.logs._operations import describe_log_streams, get_log_events
from sageforge.compat.logs._sources import JOB_GROUPS, job_stream_name

__all__ = ["JOB_GROUPS", "describe_log_streams", "get_log_events", "job_stream_name"]
