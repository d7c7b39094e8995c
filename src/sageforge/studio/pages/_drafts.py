"""The flow being edited in the builder: a draft document kept in the artifact store.

Every click in the builder (add, edit, move, delete a step) changes the draft;
only Save makes a version through the flow service, which validates it on a
sample. Keeping drafts in the store (not the browser) means a reload, a second
tab or another machine sees the same work in progress.
"""

from __future__ import annotations

import json
from typing import Any

from sageforge.core.store import ArtifactStore

PREFIX = "studio/flow-drafts"


def _key(name: str) -> str:
    return f"{PREFIX}/{name}.json"


def load(store: ArtifactStore, name: str) -> dict[str, Any] | None:
    """The unsaved document of flow `name`, or None when there are no unsaved changes."""
    key = _key(name)
    if not store.exists(key):
        return None
    return json.loads(store.get_bytes(key))  # type: ignore[no-any-return]


def save(store: ArtifactStore, name: str, document: dict[str, Any]) -> None:
    store.put_bytes(_key(name), json.dumps(document).encode())


def discard(store: ArtifactStore, name: str) -> None:
    key = _key(name)
    if store.exists(key):
        store.delete(key)
