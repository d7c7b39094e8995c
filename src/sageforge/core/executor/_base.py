"""The Executor contract: where a job's process runs, and how it is watched.

The supervisor never touches a process directly; it asks an Executor to
launch a command line, to tell whether it is still alive, to deliver a signal
and to reap it. A `ProcessHandle` is plain data (pid plus the process's start
time), stored in the DB, so a server that restarts can re-adopt a job that is
still running or learn that it is gone, and never mistake a recycled pid for
its job. Implementations must be thread-safe: the supervisor calls them from
request threads and from its monitor thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessHandle:
    """Identity of a launched job process: pid + creation time (guards pid reuse)."""

    pid: int
    create_time: float


@dataclass(frozen=True)
class ExitInfo:
    """How a process ended. `returncode` is None when it was not our child (adopted)."""

    returncode: int | None

    @property
    def signal(self) -> int | None:
        """The signal that killed it, if one did."""
        if self.returncode is not None and self.returncode < 0:
            return -self.returncode
        return None


class Executor(ABC):
    """Runs job processes; see the module docstring for the contract."""

    @abstractmethod
    def launch(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> ProcessHandle:
        """Start `argv` in its own process group/session, stdout+stderr appended to `log_path`."""

    @abstractmethod
    def poll(self, handle: ProcessHandle) -> ExitInfo | None:
        """None while the process runs; how it ended once it has (reaping it if ours)."""

    @abstractmethod
    def wait(self, handle: ProcessHandle, timeout: float | None = None) -> ExitInfo | None:
        """Block until the process ends or `timeout` passes (then None)."""

    @abstractmethod
    def signal(self, handle: ProcessHandle, sig: int, *, group: bool = False) -> bool:
        """Deliver `sig` to the process (or its whole group); False if it is already gone."""

    def release(self, handle: ProcessHandle) -> None:  # noqa: B027 - optional hook
        """Forget an ended process's exit information once the caller has used it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; running processes are left alone (they can be re-adopted)."""
