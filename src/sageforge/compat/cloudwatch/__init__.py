"""CloudWatch metrics over sageforge's training-job metrics and endpoint traffic.

`handle` answers GetMetricStatistics and ListMetrics in whichever protocol
the client speaks (query, JSON 1.0 or smithy-rpc-v2-cbor).
"""

from sageforge.compat.cloudwatch._operations import get_metric_statistics, list_metrics
from sageforge.compat.cloudwatch._series import ENDPOINT_NAMESPACE, TRAINING_NAMESPACE
from sageforge.compat.cloudwatch._wire import handle

__all__ = [
    "ENDPOINT_NAMESPACE",
    "TRAINING_NAMESPACE",
    "get_metric_statistics",
    "handle",
    "list_metrics",
]
