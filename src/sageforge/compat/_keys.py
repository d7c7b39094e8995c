"""Access keys: the secrets AWS-style clients sign requests with.

SigV4 is an HMAC over the request keyed by the secret, so the server must know
the secret itself to check a signature; it is stored in the metadata DB (whose
SQLite file is made readable by its owner only when a key is written). A
default key pair is created the first time a server starts, for the embedded
single-user set-up; `sageforge keys create|list|revoke` manages more.
Revoked keys stay in the table (Inactive) so a refused request can be
explained, and can never sign again.
"""

from __future__ import annotations

import contextlib
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sageforge.compat._models import AccessKeyRecord
from sageforge.core.config import Settings
from sageforge.core.db import Database, utcnow
from sageforge.core.errors import ResourceNotFound, ValidationError

KEY_PREFIX = "AKSF"
"""Access key ids look like AWS's (20 upper-case characters); the prefix says "sageforge"."""

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_LAST_USED_EVERY_S = 60.0


@dataclass(frozen=True)
class AccessKey:
    """A key pair as listed to its owner."""

    access_key_id: str
    secret_access_key: str
    description: str
    status: str
    is_default: bool
    creation_time: datetime
    last_used_time: datetime | None

    @classmethod
    def of(cls, row: AccessKeyRecord) -> AccessKey:
        return cls(
            access_key_id=row.access_key_id,
            secret_access_key=row.secret_access_key,
            description=row.description,
            status=row.status,
            is_default=bool(row.is_default),
            creation_time=row.creation_time,
            last_used_time=row.last_used_time,
        )


def _new_pair() -> tuple[str, str]:
    key = KEY_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return key, secret


def _protect_sqlite_file(db: Database) -> None:
    """Make the SQLite DB (it holds secrets) readable by its owner only."""
    url = db.url
    if not url.startswith("sqlite") or ":///" not in url:
        return
    path = Path(url.split(":///", 1)[1])
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            candidate.chmod(0o600)


def create_key(db: Database, description: str = "", *, default: bool = False) -> AccessKey:
    """Create and store a new active key pair."""
    if len(description) > 256:
        raise ValidationError("at most 256 characters", field="description")
    key, secret = _new_pair()
    with db.session() as s:
        row = AccessKeyRecord(
            access_key_id=key,
            secret_access_key=secret,
            description=description,
            status="Active",
            is_default=True if default else None,
            creation_time=utcnow(),
        )
        s.add(row)
        s.commit()
        result = AccessKey.of(row)
    _protect_sqlite_file(db)
    return result


def ensure_default_key(db: Database) -> AccessKey:
    """The local default key pair, created on first use (safe if several race to create it)."""
    existing = _default(db)
    if existing is not None:
        return existing
    try:
        return create_key(db, "default local key", default=True)
    except IntegrityError:
        found = _default(db)
        if found is None:
            raise
        return found


def _default(db: Database) -> AccessKey | None:
    with db.session() as s:
        row = s.scalar(sa.select(AccessKeyRecord).where(AccessKeyRecord.is_default.is_(True)))
        return AccessKey.of(row) if row is not None else None


def list_keys(db: Database) -> list[AccessKey]:
    """Every key, oldest first, revoked ones included."""
    with db.session() as s:
        rows = s.scalars(sa.select(AccessKeyRecord).order_by(AccessKeyRecord.id)).all()
        return [AccessKey.of(r) for r in rows]


def revoke_key(db: Database, access_key_id: str) -> AccessKey:
    """Mark a key Inactive; requests signed with it are refused from now on."""
    with db.session() as s:
        row = s.scalar(
            sa.select(AccessKeyRecord).where(AccessKeyRecord.access_key_id == access_key_id)
        )
        if row is None:
            raise ResourceNotFound(f"no access key {access_key_id!r}", field="access_key_id")
        row.status = "Inactive"
        s.commit()
        return AccessKey.of(row)


class KeyLookup:
    """Finds the secret of an active key for each request (no cache: a revoke takes effect
    at once), and notes when a key was last used without writing on every request."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def find(self, access_key_id: str) -> AccessKey | None:
        """The key with this id (active or not), or None."""
        with self.db.session() as s:
            row = s.scalar(
                sa.select(AccessKeyRecord).where(AccessKeyRecord.access_key_id == access_key_id)
            )
            return AccessKey.of(row) if row is not None else None

    def touch(self, access_key_id: str) -> None:
        """Record use of the key, at most once a minute per key and process."""
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(access_key_id, -1e9) < _LAST_USED_EVERY_S:
                return
            self._touched[access_key_id] = now
        with self.db.session() as s:
            s.execute(
                sa.update(AccessKeyRecord)
                .where(AccessKeyRecord.access_key_id == access_key_id)
                .values(last_used_time=utcnow())
            )
            s.commit()


def default_credentials(settings: Settings | None = None) -> tuple[str, str]:
    """(access key id, secret) of the local default key, created if none exists yet."""
    settings = settings or Settings.load()
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url)
    try:
        key = ensure_default_key(db)
    finally:
        db.dispose()
    return key.access_key_id, key.secret_access_key
