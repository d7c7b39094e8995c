"""Hosting: models, endpoint configurations, endpoints, data capture, rollouts, batch transform.

Names load lazily: endpoint workers and transform jobs import only what they run.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "CaptureWriter": "sageforge.deploy._capture",
    "CreateEndpoint": "sageforge.deploy._spec",
    "CreateEndpointConfig": "sageforge.deploy._spec",
    "CreateModel": "sageforge.deploy._spec",
    "CreateTransformJob": "sageforge.deploy._spec",
    "DataPlane": "sageforge.deploy._dataplane",
    "EndpointConfigService": "sageforge.deploy._resources",
    "EndpointService": "sageforge.deploy._service",
    "EndpointSupervisor": "sageforge.deploy._supervisor",
    "Handler": "sageforge.deploy._handler",
    "ModelError": "sageforge.deploy._handler",
    "ModelService": "sageforge.deploy._resources",
    "TransformJobService": "sageforge.deploy._transform",
    "UpdateEndpoint": "sageforge.deploy._spec",
    "UpdateEndpointWeightsAndCapacities": "sageforge.deploy._spec",
    "VariantStats": "sageforge.deploy._metrics",
    "build_handler": "sageforge.deploy._handler",
    "capture_record": "sageforge.deploy._capture",
    "compile_path": "sageforge.deploy._jsonpath",
    "prometheus_text": "sageforge.deploy._metrics",
    "read_capture": "sageforge.deploy._capture",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
