"""Training: the job contract, built-in algorithms and evaluation metrics."""
