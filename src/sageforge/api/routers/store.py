"""The artifact store over HTTP, so a client on another machine can upload and fetch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from sageforge.api._state import Platform, platform
from sageforge.core.store import check_key

router = APIRouter(prefix="/store", tags=["store"])

_CHUNK = 1 << 20


@router.get("", summary="List objects under a prefix")
def list_objects(prefix: str = "", p: Platform = Depends(platform)) -> dict[str, Any]:
    if prefix:
        check_key(prefix, field="prefix")
    objects = p.store.ls(prefix)
    return {
        "root_url": p.store.root_url,
        "objects": [{"key": o.key, "size": o.size, "url": f"store://{o.key}"} for o in objects],
    }


@router.put("/{key:path}", status_code=201, summary="Upload an object (streamed, atomic)")
async def put_object(key: str, request: Request, p: Platform = Depends(platform)) -> dict[str, Any]:
    key = check_key(key)
    size = 0
    cm = p.store.open_write(key)
    fh = await anyio.to_thread.run_sync(cm.__enter__)
    try:
        async for chunk in request.stream():
            size += len(chunk)
            await anyio.to_thread.run_sync(fh.write, chunk)
    except BaseException as exc:
        await anyio.to_thread.run_sync(cm.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await anyio.to_thread.run_sync(cm.__exit__, None, None, None)
    return {"key": key, "size": size, "url": f"store://{key}"}


@router.get("/{key:path}", summary="Download an object (streamed)")
def get_object(key: str, p: Platform = Depends(platform)) -> StreamingResponse:
    reader = p.store.open_read(check_key(key))
    size = p.store.size(key)

    def body() -> Iterator[bytes]:
        with reader:
            while chunk := reader.read(_CHUNK):
                yield chunk

    return StreamingResponse(
        body(), media_type="application/octet-stream", headers={"Content-Length": str(size)}
    )


@router.delete("/{key:path}", status_code=204, summary="Delete an object or a prefix")
def delete_object(key: str, p: Platform = Depends(platform)) -> None:
    p.store.delete(check_key(key))
