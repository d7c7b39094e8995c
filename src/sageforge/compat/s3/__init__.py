"""The S3 subset: `s3://bucket/key` in user code is a path in sageforge's artifact store.

How buckets map: bucket `b` is the store's top-level folder `b`, object `b/k`
is the store key `b/k`. So `s3://b/k` (S3 API), `store://b/k` (sageforge) and
a training job's input `s3://b/k` all name the same bytes: `ArtifactStore`
resolves `s3://` URLs into the store the same way (see `core/store.py`), and
the SageMaker SDK's default bucket `sagemaker-<region>-<account>` is simply a
folder of the store. The folders sageforge writes itself (`training-jobs`,
`models` …) appear as buckets too, so their artifacts are reachable with any
S3 client. When the store is itself on S3 or MinIO, the same code runs over
s3fs and objects pass through to it.

The S3 layer's own state (metadata sidecars, bucket records, multipart parts)
lives in `.s3/` at the store root, which is neither a valid bucket name nor
listed by the store. What a file system cannot hold is refused with the
reason: keys with empty, `.` or `..` parts, folder-marker keys ending in `/`,
and a key that is both an object and a prefix of others (`a` and `a/b`:
`KeyConflict`, 409).
"""

from sageforge.compat.s3._handler import handle

__all__ = ["handle"]
