"""Data preparation: processing jobs, tables (`io`), the insights report (`insights`),
flows of fit-then-apply transforms (`flow`), and the Dataset and Flow resources.

The engines (`io`, `insights`, `flow`) are pure: Polars in, Polars out, no DB or
HTTP. `_dataset_service`/`_flow_service` make resources and jobs of them and
`_api` plugs them into the server. Nothing heavy is imported here.
"""
