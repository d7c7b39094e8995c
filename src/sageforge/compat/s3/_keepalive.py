"""Long operations answered as S3 does: 200 at once, whitespace while working, then XML.

Completing a multipart upload or copying a large object moves gigabytes; a
client's read timeout (botocore: 60 s) could expire before the answer. S3
sends the status and then a space every few seconds until the document is
ready, and reports a failure as an `<Error>` document inside the 200, which
botocore recognises for exactly these operations (CompleteMultipartUpload,
CopyObject, UploadPartCopy) and raises as the error it names.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse

from sageforge.compat._errors import AwsError
from sageforge.compat.s3._errors import error_document, s3_error
from sageforge.compat.s3._xml import Node, document

KEEPALIVE_SECONDS = 5.0
"""Seconds between keep-alive spaces."""

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

log = logging.getLogger(__name__)


def keepalive_xml(work: Callable[[], tuple[str, list[Node]]], request_id: str) -> StreamingResponse:
    """Run `work` (blocking) in a thread; answer its (root, nodes) as the document."""

    async def body() -> AsyncIterator[bytes]:
        future = asyncio.get_running_loop().run_in_executor(None, work)
        yield _DECLARATION
        while not future.done():
            done, _ = await asyncio.wait({future}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield b" "
        try:
            root, nodes = future.result()
        except AwsError as err:
            yield error_document(err, request_id)
            return
        except Exception as exc:
            log.exception("S3 operation failed after its 200 was sent")
            yield error_document(s3_error("InternalError", str(exc), 500), request_id)
            return
        yield document(root, nodes).removeprefix(_DECLARATION)

    return StreamingResponse(body(), media_type="application/xml")
