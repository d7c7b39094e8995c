"""The `sagemaker` control plane over JSON 1.1: SageMaker's operations on sageforge's services.

Importing the package registers every operation (`@operation("SageMaker", …)`).
Requests are translated onto the native services (training, processing,
tuning, hosting, batch transform); the request as sent is kept
(`_records`) so Describe* answers echo it as SageMaker does. Images map to
sageforge runtimes in `_images`.
"""

from sageforge.compat.sagemaker import (  # noqa: F401  (registration by import)
    _endpoint_configs,
    _endpoints,
    _model,
    _processing,
    _tags,
    _training,
    _transform,
    _tuning,
)
from sageforge.compat.sagemaker._images import (
    BUILTINS,
    FRAMEWORKS,
    Runtime,
    parse_image,
    resolve_image,
)

__all__ = ["BUILTINS", "FRAMEWORKS", "Runtime", "parse_image", "resolve_image"]
