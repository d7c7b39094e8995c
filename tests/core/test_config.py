from __future__ import annotations

from pathlib import Path

from sageforge.core.config import Settings


def test_defaults_derive_from_home(tmp_path: Path) -> None:
    s = Settings.load({"SAGEFORGE_HOME": str(tmp_path)})
    assert s.home == tmp_path.resolve()
    assert s.db_url == f"sqlite:///{tmp_path.resolve() / 'sageforge.db'}"
    assert s.store_url == (tmp_path.resolve() / "store").as_uri()
    assert s.url is None
    assert s.sources == {
        "home": "env SAGEFORGE_HOME",
        "db_url": "default",
        "store_url": "default",
        "url": "default",
    }


def test_file_then_env_override(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('store_url = "memory://bucket"\nurl = "http://x:1/"\n')
    s = Settings.load({"SAGEFORGE_HOME": str(tmp_path), "SAGEFORGE_URL": "http://y:2"})
    assert s.store_url == "memory://bucket"
    assert s.sources["store_url"] == f"file {tmp_path.resolve() / 'config.toml'}"
    assert s.url == "http://y:2"
    assert s.sources["url"] == "env SAGEFORGE_URL"


def test_password_is_redacted_for_display(tmp_path: Path) -> None:
    s = Settings.load(
        {"SAGEFORGE_HOME": str(tmp_path), "SAGEFORGE_DB_URL": "postgresql://u:secret@h/db"}
    )
    shown = dict((name, value) for name, value, _ in s.as_rows())
    assert shown["db_url"] == "postgresql://u:***@h/db"
