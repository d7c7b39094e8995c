"""Every failure answers with the error tree's JSON, never a bare 500 for a client mistake."""

from __future__ import annotations

import logging

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sageforge.core.errors import (
    ClientError,
    ResourceNotFound,
    SageforgeError,
    ServerError,
    ValidationError,
)

log = logging.getLogger("sageforge.api")


def error_response(exc: SageforgeError) -> JSONResponse:
    """The JSON body and status of one of our errors."""
    return JSONResponse(exc.to_dict(), status_code=exc.http_status)


def _field_of(loc: tuple[object, ...] | list[object]) -> str:
    """`("body", "input_data_config", 0, "channel_name")` -> `input_data_config[0].channel_name`."""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif str(p).startswith(("function-", "model-")):
            continue  # pydantic's internal validator names
        else:
            out += ("." if out else "") + str(p)
    return out


def validation_error(errors: list[dict[str, object]]) -> ValidationError:
    """The first pydantic error as one of ours, with the field path users wrote."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = first.get("loc") or ()
    field = _field_of(loc if isinstance(loc, (tuple, list)) else ())
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        msg = "is not a known field"
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ValidationError(msg, field=field or None)


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into our JSON errors."""

    @app.exception_handler(SageforgeError)
    async def _ours(_: Request, exc: SageforgeError) -> JSONResponse:
        if isinstance(exc, ServerError):
            log.error("server error: %s", exc)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(list(exc.errors())))

    @app.exception_handler(pydantic.ValidationError)
    async def _model(_: Request, exc: pydantic.ValidationError) -> JSONResponse:
        return error_response(validation_error(list(exc.errors())))  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(ResourceNotFound(str(exc.detail)))
        if exc.status_code < 500:
            err = ClientError(str(exc.detail))
            err.http_status = exc.status_code
            return error_response(err)
        return error_response(ServerError(str(exc.detail)))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(ServerError(f"internal error: {type(exc).__name__}: {exc}"))
