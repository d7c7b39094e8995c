"""Where sageforge keeps things and which server clients talk to.

Each setting comes from, in order: an environment variable, the config file
`$SAGEFORGE_HOME/config.toml`, or a default derived from the home folder.
`Settings.sources` records which one won, so `sageforge config` can say why a
value is what it is — the first question anyone asks when two machines disagree.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 7070
"""The port a foreground `sageforge server` binds when none is given."""

_ENV = {
    "home": "SAGEFORGE_HOME",
    "url": "SAGEFORGE_URL",
    "db_url": "SAGEFORGE_DB_URL",
    "store_url": "SAGEFORGE_STORE_URL",
}


@dataclass(frozen=True)
class Settings:
    """The effective configuration; build it with `Settings.load()`."""

    home: Path
    url: str | None
    """An explicit server URL; None means "find or start the local server"."""
    db_url: str
    store_url: str
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, environ: dict[str, str] | None = None) -> Settings:
        """Resolve every setting from the environment, the config file and defaults."""
        env = dict(os.environ if environ is None else environ)
        sources: dict[str, str] = {}

        if env.get(_ENV["home"]):
            home = Path(env[_ENV["home"]]).expanduser()
            sources["home"] = f"env {_ENV['home']}"
        else:
            home = Path("~/.sageforge").expanduser()
            sources["home"] = "default"
        home = home.resolve()

        config_path = home / "config.toml"
        file_values: dict[str, object] = {}
        if config_path.is_file():
            with config_path.open("rb") as fh:
                file_values = tomllib.load(fh)

        def pick(key: str, default: str | None) -> str | None:
            var = _ENV[key]
            if env.get(var):
                sources[key] = f"env {var}"
                return env[var]
            if key in file_values:
                sources[key] = f"file {config_path}"
                return str(file_values[key])
            sources[key] = "default"
            return default

        db_url = pick("db_url", f"sqlite:///{home / 'sageforge.db'}")
        store_url = pick("store_url", (home / "store").as_uri())
        url = pick("url", None)
        assert db_url is not None and store_url is not None
        return cls(
            home=home,
            url=url.rstrip("/") if url else None,
            db_url=db_url,
            store_url=store_url,
            sources=sources,
        )

    @property
    def jobs_dir(self) -> Path:
        """Local working folders of jobs (their /opt/ml), logs included."""
        return self.home / "jobs"

    @property
    def server_file(self) -> Path:
        """Written by a running server: its pid and URL, for clients to find it."""
        return self.home / "server.json"

    @property
    def server_log(self) -> Path:
        """Where a server started in the background writes its log."""
        return self.home / "logs" / "server.log"

    def as_rows(self) -> list[tuple[str, str, str]]:
        """(name, value, source) rows for display."""
        return [
            ("home", str(self.home), self.sources.get("home", "")),
            ("url", self.url or "(local server, started on demand)", self.sources.get("url", "")),
            ("db_url", _redact(self.db_url), self.sources.get("db_url", "")),
            ("store_url", self.store_url, self.sources.get("store_url", "")),
        ]


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"
