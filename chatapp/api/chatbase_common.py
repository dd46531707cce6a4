"""What every route of the Chatbase-compatible API shares: its prefix, its authentication (a
workspace API token in `Authorization: Bearer`, acting in the token's own workspace), and its
errors in Chatbase's shape, `{"message": "..."}`.

Chatbase answers invalid input with 400 where the rest of our API says 422 (or 413 for a message
that is too long): under this prefix those become 400; 401, 403, 404, 409 and 429 (with
`Retry-After`) keep their status. The route class converts errors raised anywhere in a route,
its validation and its dependencies included, so no `{"detail"}` leaks out of these routes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIRouter
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from chatapp.api.deps import bearer_token, client_ip
from chatapp.api.errors import DATABASE_DOWN
from chatapp.core.db import session_scope
from chatapp.core.errors import NotAuthenticated, ServiceError, TooManyRequests
from chatapp.core.schemas import message_of
from chatapp.services.accounts import api_tokens
from chatapp.services.accounts.tenancy import Actor

log = logging.getLogger(__name__)

PREFIX = "/api/chatbase/v1"
AS_BAD_REQUEST = {413, 422}  # refusals of the input: Chatbase says 400
NOT_AN_API_TOKEN = (
    "Use a workspace API token (cat_...) as your API key: a workspace owner or admin creates "
    "one with POST /api/v1/workspaces/{id}/tokens."
)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error as Chatbase sends one."""
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def service_error_response(exc: ServiceError) -> Response:
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    status = 400 if exc.status in AS_BAD_REQUEST else exc.status
    return error_response(status, exc.message, headers)


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for error in errors[:3]:
        if error.get("type") == "json_invalid":
            parts.append("The request body is not valid JSON.")
            continue
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {message_of(error)}" if where else message_of(error))
    return "; ".join(parts) or "Invalid request data."


class ChatbaseRoute(APIRoute):
    """A route whose refusals are Chatbase's `{"message"}` with Chatbase's statuses. Left out
    of our OpenAPI schema: the contract is Chatbase's (tests/data/chatbase/), and the tests
    check these routes against it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **{**kwargs, "include_in_schema": False})

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_response(400, _validation_message(list(exc.errors())))
            except ServiceError as exc:
                return service_error_response(exc)
            except HTTPException as exc:  # FastAPI's own: a body that cannot be read, say
                return error_response(exc.status_code, str(exc.detail), exc.headers)
            except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
                log.warning("database unavailable: %s", str(exc).splitlines()[0][:200])
                return error_response(503, DATABASE_DOWN, {"Retry-After": "5"})

        return handle


def new_router(prefix: str = "") -> APIRouter:
    return APIRouter(prefix=prefix, route_class=ChatbaseRoute)


def chatbase_actor(request: Request, token: str = Depends(bearer_token)) -> Actor:
    """The workspace API token's actor, in the workspace the token was made in (Chatbase's paths
    name no workspace). Login tokens are refused: a Chatbase key stands for a workspace."""
    if not api_tokens.is_api_token(token):
        raise NotAuthenticated(NOT_AN_API_TOKEN)
    with session_scope() as session:  # committed before the route starts (see deps.py)
        actor = api_tokens.actor_in_own_workspace(session, token)
    return dataclasses.replace(actor, ip=client_ip(request))


ACTOR = Depends(chatbase_actor)
