"""Turn service errors and validation errors into JSON a person can read."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from chatapp.core.errors import ServiceError, TooManyRequests

log = logging.getLogger(__name__)
DATABASE_DOWN = "The service is briefly unavailable. Please try again in a moment."


def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)


def _describe(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query"))
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    return JSONResponse(
        {
            "detail": "; ".join(_describe(e) for e in errors[:5]),
            "errors": [_describe(e) for e in errors],
        },
        status_code=422,
    )


def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    """The database is restarting or unreachable: a quick 503 the client may retry, not a 500.

    (Stale pooled connections are replaced by the pool's pre-ping once it is back.)"""
    log.warning("database unavailable: %s", str(exc).splitlines()[0][:200])
    return JSONResponse({"detail": DATABASE_DOWN}, status_code=503, headers={"Retry-After": "5"})


# What every error answer looks like; `errors` lists the problems (a list of sentences, or a
# field -> sentence map for action and lead forms).
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "errors": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object", "additionalProperties": {"type": "string"}},
            ],
            "title": "Errors",
        },
    },
}


def _document_errors(app: FastAPI) -> None:
    """FastAPI documents 422 as its own list-shaped `HTTPValidationError`; our handler answers
    `{"detail": str, "errors": [...]}`, so the schema says that instead (clients and the fuzz
    test validate answers against it)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            components = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in components:
                components["HTTPValidationError"] = ERROR_SCHEMA
                components.pop("ValidationError", None)
        return app.openapi_schema

    app.openapi = openapi


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.add_exception_handler(error, _database_down)
    _document_errors(app)
