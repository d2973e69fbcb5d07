"""Typed API errors that carry their own status, and the handlers that render ``{detail}``.

Nothing ever answers 500: connector errors map through their own ``http_status``
(429/502/503/504, 404), validation errors are scrubbed of submitted values, and anything
unexpected becomes a 503 with a generic detail (the traceback goes to the log only).
"""

import logging
import math
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors import ConnectorError, RateLimited
from schemas import ErrorBody
from unified_ats.events.log import EndpointDisabled
from unified_ats.reads import RecordNotFound, VendorDeadlineExceeded
from unified_ats.store.records import RecordRejected
from unified_ats.writes import WriteRejected

logger = logging.getLogger("unified_ats.api")


class ApiError(Exception):
    status_code: ClassVar[int] = 400

    def __init__(self, detail: str | list[Any], *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="unified-ats"'})


class NotFoundError(ApiError):
    status_code = 404


class Unprocessable(ApiError):
    """A value of the right type that cannot be used; ``detail`` in FastAPI's list form."""

    status_code = 422

    def __init__(self, location: list[str | int], kind: str, message: str) -> None:
        super().__init__([{"type": kind, "loc": location, "msg": message}])


class PayloadTooLarge(ApiError):
    status_code = 413


class RequestTimeout(ApiError):
    status_code = 408


# The domain raises its own errors (it never imports this layer); each has one status here.
DOMAIN_STATUSES: dict[type[Exception], int] = {
    RecordNotFound: 404,
    VendorDeadlineExceeded: 504,
    RecordRejected: 422,
    EndpointDisabled: 409,
}


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(detail=detail).model_dump(mode="json"), status, headers=headers)


def scrub(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FastAPI's 422 list, without ``input``/``ctx``: a submitted credential must not echo back."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def connector_error_response(exc: ConnectorError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(math.ceil(exc.retry_after if exc.retry_after else 1))
    return error_response(exc.http_status, exc.message, headers)


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status_code, exc.detail, exc.headers)

    async def connector_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConnectorError)
        logger.warning("vendor error on %s: %s", request.url.path, exc.message)
        return connector_error_response(exc)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, scrub(list(exc.errors())))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        for kind, status in DOMAIN_STATUSES.items():
            if isinstance(exc, kind):
                return error_response(status, str(exc))
        raise exc  # pragma: no cover - only registered for the kinds above

    async def write_rejected(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WriteRejected)
        return error_response(422, exc.errors)

    for kind in DOMAIN_STATUSES:
        app.add_exception_handler(kind, domain_error)
    app.add_exception_handler(WriteRejected, write_rejected)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ConnectorError, connector_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


class NeverFiveHundred:
    """Outermost ASGI middleware: an unexpected exception becomes a 503 ``{detail}``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s", scope.get("path"))
            if started:
                raise
            response = error_response(503, "the server could not complete this request; retry")
            await response(scope, receive, send)
