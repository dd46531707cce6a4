"""Errors of the OpenAI-compatible API in OpenAI's own shape, so its SDKs raise their usual
exceptions (AuthenticationError, NotFoundError, RateLimitError...):

    {"error": {"message": "...", "type": "...", "param": null, "code": "..."}}

The rest of our API answers `{"detail": ...}` (errors.py); only the routes of routes_openai.py,
through `OpenAIRoute`, answer like this. Invalid input is 400 here (OpenAI's status), not 422.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException  # FastAPI's own is a subclass
from starlette.requests import Request
from starlette.responses import Response

from chatapp.api.errors import DATABASE_DOWN
from chatapp.core.errors import ServiceError, TooLarge, TooManyRequests
from chatapp.services.bots import quota

log = logging.getLogger(__name__)

# A pipeline failure after the answer started (the LLM's), in the non-streamed form.
LLM_FAILURE_STATUS = {"llm_timeout": 504, "llm_config": 502, "llm_interrupted": 502}


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class OpenAIError(Exception):
    """A refusal of this API, already in OpenAI's words and status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.code, self.param, self.headers = code, param, headers or {}

    def body(self) -> dict[str, Any]:
        detail = {"message": self.message, "type": self.type, "param": self.param}
        return {"error": {**detail, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unsupported(param: str, message: str) -> OpenAIError:
    return OpenAIError(400, message, code="unsupported_parameter", param=param)


def from_service_error(exc: ServiceError) -> OpenAIError:
    """Our services' refusals as OpenAI's: same sentence, OpenAI's status, type and code."""
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
        if exc.message == quota.MONTHLY_LIMIT_REACHED:
            message = (
                "This bot's monthly message limit is reached; it starts again on the 1st "
                "(UTC). Its owner can raise the limit in the dashboard."
            )
            # Retrying cannot help before next month: tell the SDKs not to.
            headers["x-should-retry"] = "false"
            return OpenAIError(
                429, message, type="insufficient_quota", code="insufficient_quota", headers=headers
            )
        return OpenAIError(
            429,
            exc.message,
            type="rate_limit_exceeded",
            code="rate_limit_exceeded",
            headers=headers,
        )
    if isinstance(exc, TooLarge):
        return OpenAIError(400, exc.message, code="string_above_max_length", param="messages")
    if exc.status == 401:
        return OpenAIError(
            401, exc.message, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"}
        )
    if exc.status == 403:
        return OpenAIError(403, exc.message, type="permission_error", code="permission_denied")
    if exc.status == 404:
        return OpenAIError(404, exc.message, code="model_not_found", param="model")
    if exc.status == 422:
        return OpenAIError(400, exc.message, code="invalid_value")
    return OpenAIError(exc.status, exc.message, code=None)


def _from_validation(exc: RequestValidationError) -> OpenAIError:
    error = exc.errors()[0] if exc.errors() else {}
    if error.get("type") == "json_invalid":
        return OpenAIError(400, "The request body is not valid JSON.", code="invalid_json")
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    text = f"{where}: {message}" if where else message
    return OpenAIError(400, text, code="invalid_value", param=where or None)


def _from_http(exc: HTTPException) -> OpenAIError:
    kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
    headers = dict(exc.headers or {})
    return OpenAIError(exc.status_code, str(exc.detail), type=kind, headers=headers)


def answer_failed(code: str, message: str) -> OpenAIError:
    """The LLM failed after the answer began (the non-streamed form)."""
    return OpenAIError(LLM_FAILURE_STATUS.get(code, 503), message, type="server_error", code=code)


def database_down() -> OpenAIError:
    headers = {"Retry-After": "5"}
    return OpenAIError(503, DATABASE_DOWN, type="server_error", code="unavailable", headers=headers)


class OpenAIRoute(APIRoute):
    """A route whose every refusal (validation, authentication, services) is OpenAI-shaped."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except OpenAIError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return _from_validation(exc).response()
            except HTTPException as exc:  # e.g. a body that is not UTF-8 ("error parsing the body")
                return _from_http(exc).response()
            except ServiceError as exc:
                return from_service_error(exc).response()
            except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
                log.warning("database unavailable: %s", str(exc).splitlines()[0][:200])
                return database_down().response()

        return handle


# What the routes document for each refusal (the fuzz test checks answers against it).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid or unsupported request."},
    401: {"model": ErrorBody, "description": "Missing, unknown or revoked key."},
    403: {"model": ErrorBody, "description": "The bot is paused."},
    404: {"model": ErrorBody, "description": "No such model (bot) for this key."},
    429: {"model": ErrorBody, "description": "Rate limit or monthly quota (see Retry-After)."},
    503: {"model": ErrorBody, "description": "Briefly unavailable; retry."},
}
