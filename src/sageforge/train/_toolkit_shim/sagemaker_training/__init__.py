"""sageforge's stand-in for the SageMaker training toolkit, for scripts that import it.

SageMaker's framework containers ship `sagemaker-training`; scripts written
for them read their settings through `sagemaker_training.environment.Environment`.
sageforge runs those scripts without the container, so this package provides
the part scripts use, read from the same `SM_*` variables the job sets. When
the real toolkit is installed, jobs use it instead.
"""

from sagemaker_training import environment

__all__ = ["environment"]
