"""The server's long-lived parts, built once at start-up and shared by the routers."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from sageforge.core.config import Settings
from sageforge.core.db import Database
from sageforge.core.executor import LocalExecutor
from sageforge.core.jobs import JobSupervisor
from sageforge.core.store import ArtifactStore
from sageforge.data.processing import ProcessingJobService
from sageforge.train import TrainingJobService


@dataclass
class Platform:
    """Everything a request handler may need; one per server process."""

    settings: Settings
    db: Database
    store: ArtifactStore
    supervisor: JobSupervisor
    training: TrainingJobService
    processing: ProcessingJobService
    services: dict[str, Any] = field(default_factory=dict)
    """Services of capabilities attached at start-up (see `sageforge.api.app.CAPABILITIES`)."""
    _on_start: list[Callable[[], None]] = field(default_factory=list)
    _on_close: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings) -> Platform:
        """Open the DB (migrating it), the store, and the job supervisor."""
        settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.db_url)
        store = ArtifactStore(settings.store_url)
        supervisor = JobSupervisor(
            db,
            LocalExecutor(),
            jobs_dir=settings.jobs_dir,
            store_url=settings.store_url,
            stop_grace_s=float(os.environ.get("SAGEFORGE_STOP_GRACE_SECONDS", "30")),
        )
        return cls(
            settings=settings,
            db=db,
            store=store,
            supervisor=supervisor,
            training=TrainingJobService(supervisor, store),
            processing=ProcessingJobService(supervisor, store),
        )

    def on_start(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the server starts (after job recovery)."""
        self._on_start.append(hook)

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the server shuts down (before the DB closes)."""
        self._on_close.append(hook)

    def start(self) -> None:
        self.supervisor.start()
        for hook in self._on_start:
            hook()
        # Built-ins import scikit-learn and XGBoost (seconds); load them now, off the
        # request path, so the first create with a built-in does not pay for it.
        threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()

    def close(self) -> None:
        for hook in reversed(self._on_close):
            hook()
        self.supervisor.close()
        self.db.dispose()


def _warm_up() -> None:
    from sageforge.train.algorithms import available_algorithms

    available_algorithms()


def platform(request: Request) -> Platform:
    """FastAPI dependency: the server's Platform."""
    return request.app.state.platform  # type: ignore[no-any-return]
