"""sageforge: a self-hosted machine-learning platform that does what Amazon SageMaker does."""

__version__ = "0.1.0"
