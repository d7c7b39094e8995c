"""The SDK finds or starts the local server, and reuses it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sageforge.core.config import Settings
from sageforge.core.errors import ServerUnavailable
from sageforge.sdk import Session
from sageforge.sdk._local_server import read_server_file, running_server, stop_server

pytestmark = pytest.mark.e2e


def test_session_starts_a_local_server_once_and_reuses_it(home: Path) -> None:
    settings = Settings.load()
    assert running_server(settings) is None
    first = Session()
    try:
        info = read_server_file(settings)
        assert info is not None and first.url == info["url"]
        assert info["pid"] != os.getpid()  # never in the client's process
        second = Session()
        assert second.url == first.url
        assert read_server_file(settings)["pid"] == info["pid"]  # type: ignore[index]
        assert first.server_is_local
        second.close()
    finally:
        first.close()
        assert stop_server(settings) is not None
    assert running_server(settings) is None


def test_unreachable_url_is_a_clear_error(home: Path) -> None:
    with Session("http://127.0.0.1:9") as s, pytest.raises(ServerUnavailable, match="cannot reach"):
        s.list_training_jobs()
