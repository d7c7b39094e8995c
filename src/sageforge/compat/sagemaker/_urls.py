"""`s3://bucket/key` in SageMaker requests ↔ sageforge store URLs in native specs.

The compat S3 API serves the artifact store's top-level folders as buckets
(`s3://bucket/key` is the store key `bucket/key`), so a URL a user wrote for
S3 names the same object here. When the store itself is S3 (or MinIO), an S3
URL already names the object: it passes through untouched.
"""

from __future__ import annotations

from sageforge.core.store import STORE_SCHEME, ArtifactStore

S3 = "s3://"


def store_is_s3(store: ArtifactStore) -> bool:
    return store.root_url.startswith(("s3://", "s3a://"))


def to_store(store: ArtifactStore, url: str) -> str:
    """The native URL of an `s3://` URL (unchanged when the store is S3 or it is not S3)."""
    if not url.startswith(S3) or store_is_s3(store):
        return url
    rest = url[len(S3) :]
    return STORE_SCHEME + rest


def to_s3(store: ArtifactStore, url: str) -> str:
    """The `s3://` URL of a native store URL, as SageMaker answers it."""
    if url.startswith(STORE_SCHEME):
        return S3 + url[len(STORE_SCHEME) :]
    key = store.key_of(url) if "://" in url or url.startswith("/") else None
    if key is not None and not store_is_s3(store):
        return S3 + key
    return url
