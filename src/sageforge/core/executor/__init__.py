"""Executors: where job processes run (local child processes now, Ray later)."""

from sageforge.core.executor._base import Executor, ExitInfo, ProcessHandle
from sageforge.core.executor._local import LocalExecutor

__all__ = ["Executor", "ExitInfo", "LocalExecutor", "ProcessHandle"]
