"""Flows: ordered, fit-then-apply transforms over Polars, saved as versioned JSON.

```python
from sageforge.data.flow import FlowDocument, fit_transform, split_frames, RecordPipeline

doc = FlowDocument.from_json(open("flow.json").read())
fitted, rows = fit_transform(doc, polars_frame)      # learn on training rows
parts = split_frames(fitted, rows)                    # {"train": df, "validation": df, ...}
endpoint = RecordPipeline(fitted)                     # one raw record -> the same values
endpoint({"tenure": 12, "contract": " month-to-month"})
```

`TRANSFORMS` maps each step `type` to its class; each class documents its
parameters (`TRANSFORMS["impute"].Params`).
"""

from sageforge.data.flow import (  # noqa: F401  (importing registers the transforms)
    _balance,
    _columns,
    _custom,
    _encode,
    _featurize,
    _missing,
    _numeric,
    _outliers,
    _rows,
    _search,
    _split,
    _strings,
)
from sageforge.data.flow._base import (
    HIDDEN_COLUMNS,
    SPLIT_COLUMN,
    TRANSFORMS,
    TYPE_NAMES,
    StepError,
    StepParams,
    Transform,
    dtype_from_name,
    dtype_name,
    schema_from_dict,
    schema_to_dict,
)
from sageforge.data.flow._document import (
    FORMAT_VERSION,
    OUTPUT_FORMATS,
    DestinationSpec,
    FlowDocument,
    SourceSpec,
    Step,
    build_step,
)
from sageforge.data.flow._export import write_splits
from sageforge.data.flow._runner import (
    FlowCheck,
    RecordPipeline,
    apply_flow,
    apply_record,
    check_flow,
    fit,
    fit_transform,
    preview,
    run_flow,
    split_frames,
    transform,
)

__all__ = [
    "FORMAT_VERSION",
    "HIDDEN_COLUMNS",
    "OUTPUT_FORMATS",
    "SPLIT_COLUMN",
    "TRANSFORMS",
    "TYPE_NAMES",
    "DestinationSpec",
    "FlowCheck",
    "FlowDocument",
    "RecordPipeline",
    "SourceSpec",
    "Step",
    "StepError",
    "StepParams",
    "Transform",
    "apply_flow",
    "apply_record",
    "build_step",
    "check_flow",
    "dtype_from_name",
    "dtype_name",
    "fit",
    "fit_transform",
    "preview",
    "run_flow",
    "schema_from_dict",
    "schema_to_dict",
    "split_frames",
    "transform",
    "write_splits",
]
