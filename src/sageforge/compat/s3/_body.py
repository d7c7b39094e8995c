"""Request bodies, streamed: aws-chunked decoding, digests and their verification.

A body is never held whole: it is read from the socket in the event loop,
gathered into blocks of about 1 MiB, and each block is hashed and written in a
worker thread. Everything a client tells about the bytes is checked once they
are all in, before the object is published: Content-MD5, the hex
`x-amz-content-sha256` (SigV4 signs the header, not the bytes, so only this
proves the payload is the one that was signed), `x-amz-decoded-content-length`
and an `x-amz-checksum-<algorithm>` sent as a header or, with
`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, as a trailer after the last chunk.

Algorithms without a checksum in the standard library (CRC32C, CRC64NVME)
are accepted unverified and not echoed back; the per-chunk signatures of
`STREAMING-AWS4-HMAC-SHA256-PAYLOAD` are not checked (botocore never sends
that form: it signs the payload or uses an unsigned trailer).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.requests import Request

from sageforge.compat.s3._errors import bad_digest, invalid_request, s3_error

BLOCK = 1024 * 1024
"""Bytes gathered before a hop to a worker thread: large enough to amortise the hop."""

_MAX_LINE = 4096
_HEX = re.compile(r"[0-9a-fA-F]{64}")
ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _checksum(algorithm: str) -> Any:
    """A hasher for a verifiable algorithm, else None."""
    if algorithm == "crc32":
        return _Crc32()
    if algorithm in ("sha1", "sha256"):
        return hashlib.new(algorithm)
    return None


def _incomplete(detail: str) -> Exception:
    return s3_error("IncompleteBody", f"The request body is incomplete: {detail}.", 400)


class AwsChunkedDecoder:
    """`<hex size>[;chunk-signature=…]\\r\\n<data>\\r\\n` … `0\\r\\n<trailer lines>\\r\\n`."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = "size"
        self._remaining = 0
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> list[bytes]:
        """Decoded payload bytes found in `data` (possibly none yet)."""
        self._buf += data
        out: list[bytes] = []
        while self._step(out):
            pass
        return out

    def _line(self) -> bytes | None:
        idx = self._buf.find(b"\r\n")
        if idx < 0:
            if len(self._buf) > _MAX_LINE:
                raise invalid_request("malformed aws-chunked body: a chunk header is too long")
            return None
        line = bytes(self._buf[:idx])
        del self._buf[: idx + 2]
        return line

    def _step(self, out: list[bytes]) -> bool:
        if self._state == "size":
            line = self._line()
            if line is None:
                return False
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise invalid_request("malformed aws-chunked body: bad chunk size") from None
            self._state, self._remaining = ("data", size) if size else ("trailer", 0)
            return True
        if self._state == "data":
            if not self._buf:
                return False
            take = min(self._remaining, len(self._buf))
            out.append(bytes(self._buf[:take]))
            del self._buf[:take]
            self._remaining -= take
            if self._remaining == 0:
                self._state = "crlf"
            return True
        if self._state == "crlf":
            if len(self._buf) < 2:
                return False
            if self._buf[:2] != b"\r\n":
                raise invalid_request("malformed aws-chunked body: chunk not followed by CRLF")
            del self._buf[:2]
            self._state = "size"
            return True
        if self._state == "trailer":
            line = self._line()
            if line is None:
                return False
            if not line.strip():
                self._state = "done"
                return False
            name, _, value = line.decode("latin-1").partition(":")
            self.trailers[name.strip().lower()] = value.strip()
            return True
        self._buf.clear()  # "done": anything after the final CRLF is ignored
        return False

    def finish(self) -> None:
        """Raise unless the body ended after its last chunk."""
        if self._state == "trailer" and self._buf.strip():
            line = bytes(self._buf).decode("latin-1")  # a last trailer without its CRLF
            name, _, value = line.partition(":")
            self.trailers[name.strip().lower()] = value.strip()
        elif self._state not in ("trailer", "done"):
            raise _incomplete("the aws-chunked body ended inside a chunk")


@dataclass
class Received:
    """What arrived: size, MD5 (for the ETag) and the checksums that were verified."""

    size: int
    md5: bytes
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def md5_hex(self) -> str:
        return self.md5.hex()


def checksum_algorithm(headers: Any) -> str | None:
    """The `x-amz-checksum-*` algorithm a request announces, lower-case, if any."""
    named = headers.get("x-amz-sdk-checksum-algorithm") or headers.get("x-amz-checksum-algorithm")
    if named:
        return str(named).lower()
    trailer = str(headers.get("x-amz-trailer") or "").lower()
    if trailer.startswith("x-amz-checksum-"):
        return trailer.removeprefix("x-amz-checksum-")
    for algorithm in ALGORITHMS:
        if headers.get(f"x-amz-checksum-{algorithm}"):
            return algorithm
    return None


async def receive(request: Request, write: Callable[[bytes], None]) -> Received:
    """Stream the decoded body into `write` (called in a worker thread), then verify it."""
    headers = request.headers
    sha_header = headers.get("x-amz-content-sha256", "")
    chunked = "aws-chunked" in headers.get("content-encoding", "") or sha_header.startswith(
        "STREAMING-"
    )
    algorithm = checksum_algorithm(headers)
    checksum = _checksum(algorithm) if algorithm else None
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256() if _HEX.fullmatch(sha_header) and not chunked else None
    decoder = AwsChunkedDecoder() if chunked else None
    size = 0

    def consume(block: bytes) -> None:
        md5.update(block)
        if sha256 is not None:
            sha256.update(block)
        if checksum is not None:
            checksum.update(block)
        write(block)

    pending = bytearray()
    async for data in request.stream():
        if not data:
            continue
        for piece in decoder.feed(data) if decoder else (data,):
            pending += piece
        if len(pending) >= BLOCK:
            block = bytes(pending)
            pending.clear()
            size += len(block)
            await anyio.to_thread.run_sync(consume, block)
    if pending:
        size += len(pending)
        await anyio.to_thread.run_sync(consume, bytes(pending))
    trailers: dict[str, str] = {}
    if decoder is not None:
        decoder.finish()
        trailers = decoder.trailers
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and declared.strip() != str(size):
            raise _incomplete(f"x-amz-decoded-content-length is {declared}, received {size}")
    elif (
        headers.get("content-length", "").strip().isdigit()
        and int(headers["content-length"]) != size
    ):
        raise _incomplete(f"Content-Length is {headers['content-length']}, received {size}")
    received = Received(size, md5.digest())
    _verify(headers, trailers, received, sha256, algorithm, checksum)
    return received


def _verify(
    headers: Any,
    trailers: dict[str, str],
    received: Received,
    sha256: Any,
    algorithm: str | None,
    checksum: Any,
) -> None:
    content_md5 = headers.get("content-md5")
    if content_md5:
        try:
            given = base64.b64decode(content_md5, validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if len(given) != 16:
            raise s3_error("InvalidDigest", "The Content-MD5 you specified is not valid.", 400)
        if given != received.md5:
            raise bad_digest("Content-MD5")
    if sha256 is not None:
        computed = sha256.hexdigest()
        claimed = headers["x-amz-content-sha256"].lower()
        if computed != claimed:
            raise s3_error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400,
                ClientComputedContentSHA256=claimed,
                S3ComputedContentSHA256=computed,
            )
    if algorithm and checksum is not None:
        name = f"x-amz-checksum-{algorithm}"
        claimed_sum = trailers.get(name) or headers.get(name)
        if claimed_sum:
            computed_sum = base64.b64encode(checksum.digest()).decode()
            if claimed_sum != computed_sum:
                raise bad_digest(algorithm.upper())
            received.checksums[algorithm] = computed_sum
