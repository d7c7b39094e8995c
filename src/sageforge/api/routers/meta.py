"""Health, server information and the catalogue of built-in algorithms."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Depends

import sageforge
from sageforge.api._state import Platform, platform

health_router = APIRouter(tags=["meta"])
router = APIRouter(tags=["meta"])
_STARTED = time.time()


@health_router.get("/health", summary="Liveness: the server answers")
def health() -> dict[str, Any]:
    return {"status": "ok", "version": sageforge.__version__, "pid": os.getpid()}


@router.get("/info", summary="The server's configuration")
def info(p: Platform = Depends(platform)) -> dict[str, Any]:
    return {
        "version": sageforge.__version__,
        "pid": os.getpid(),
        "uptime_s": round(time.time() - _STARTED, 1),
        "home": str(p.settings.home),
        "store_url": p.store.root_url,
        "db_dialect": p.db.engine.dialect.name,
    }


@router.get("/algorithms", summary="Built-in algorithms and their hyperparameters")
def algorithms() -> dict[str, Any]:
    from sageforge.train.algorithms import available_algorithms, get_algorithm

    out = []
    for name in available_algorithms():
        algo = get_algorithm(name)
        out.append(
            {
                "name": name,
                "title": algo.title,
                "channels": [{"name": c.name, "required": c.required} for c in algo.channels],
                "content_types": list(algo.content_types),
                "metrics": algo.all_metric_names(),
                "hyperparameters": algo.hyperparameters.describe(),
            }
        )
    return {"algorithms": out}
