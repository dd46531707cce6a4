"""Route dependencies: a database session per request and the acting user or member."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Annotated

import annotated_types
from fastapi import Depends, Header, Request
from sqlmodel import Session

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import api_tokens, auth
from chatapp.services.accounts.tenancy import Actor, actor_for
from chatapp.services.models import User

# A row id (or count) in a path or query: what an INTEGER column holds (32 bits on PostgreSQL). A
# bigger one is 422, not a database overflow error (500); what does not exist in the caller's
# workspace is 404 from the service.
Id = Annotated[int, annotated_types.Interval(ge=-(2**31), le=2**31 - 1)]


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# The route's session, committed as soon as the route function returns and before its response is
# sent (FastAPI's "function" scope; the default "request" scope commits after the response, so a
# client could see 201 and not find what it just made). A streamed answer writes through sessions
# of its own, never through this one.
REQUEST_SESSION = Depends(db_session, scope="function")


def bearer_token(authorization: str | None = Header(default=None)) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise NotAuthenticated("Send your token as 'Authorization: Bearer <token>'.")
    return authorization[7:].strip()


# Authentication runs in a short transaction of its own, committed before the route starts: its
# small write (a token's last use) must never hold SQLite's single write lock while the route, or
# a chat it starts, writes through another session.


def current_user(token: str = Depends(bearer_token)) -> User:
    with session_scope() as session:
        return auth.user_for_token(session, token)


def current_actor(workspace_id: Id, request: Request, token: str = Depends(bearer_token)) -> Actor:
    """A member acting through a login token, or a script through a workspace API token."""
    with session_scope() as session:
        if api_tokens.is_api_token(token):
            actor = api_tokens.actor_for_token(session, token, workspace_id)
        else:
            user = auth.user_for_token(session, token)
            actor = actor_for(session, user_id=user.id, workspace_id=workspace_id)
    return dataclasses.replace(actor, ip=client_ip(request))


def client_ip(request: Request) -> str:
    """The visitor's address; behind TRUSTED_PROXY_HOPS reverse proxies, from X-Forwarded-For
    (the entry our nearest trusted proxy added: earlier entries can be forged by the client)."""
    hops = get_settings().trusted_proxy_hops
    if hops:
        entries = [e.strip() for e in request.headers.get("x-forwarded-for", "").split(",")]
        entries = [e for e in entries if e]
        if entries:
            return entries[-min(hops, len(entries))][:64]
    return request.client.host if request.client else ""
