"""The one way dashboard states call services: off the event loop, errors shown the same way.

Reflex runs a handler's synchronous code on the event loop that also streams visitors' answers
(design.md, convention 10): one database query or password hash there silences every stream. So the
work runs in a worker thread, in its own session, and the (async) handler awaits it. A
`ValidationFailed` is shown beside the form's field when the handler names one (`field`: a key
of the state's `errors` dict); any other `ServiceError` becomes the error toast the handler
returns (`Outcome.toast`), or nothing with `quiet=True` (loaders that show an empty list).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import reflex as rx
from sqlmodel import Session

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, ServiceError, ValidationFailed
from chatapp.services.accounts import auth
from chatapp.services.accounts.tenancy import Actor, actor_for

T = TypeVar("T")
# The key in the state's `errors` dict a `ValidationFailed` is shown under (or how to name it).
Field = str | Callable[[ValidationFailed], str] | None


@dataclasses.dataclass(frozen=True)
class Who:
    """Who acts, read from the state on the loop so the worker thread never touches the state."""

    token: str
    workspace_id: str
    ip: str


def actor_of(session: Session, who: Who) -> Actor:
    """The acting member, re-read from the database: a removed member loses access at once."""
    user = auth.user_for_token(session, who.token)
    if not who.workspace_id:
        raise NotFound("Choose a workspace first.")
    actor = actor_for(session, user_id=user.id, workspace_id=int(who.workspace_id))
    return dataclasses.replace(actor, ip=who.ip)


def member(who: Who) -> Actor:
    """The acting member, in a session of its own (for work that outlives one: a stream)."""
    with session_scope() as session:
        return actor_of(session, who)


@dataclasses.dataclass
class Outcome(Generic[T]):
    """What a call gave: its value, or the error and the toast (None: shown beside a field)."""

    value: T | None = None
    error: ServiceError | None = None
    toast: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Blocking work without a session (files, hashing): in a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def as_member(
    state: Any,
    work: Callable[[Session, Actor], T],
    *,
    field: Field = None,
    quiet: bool = False,
) -> Outcome[T]:
    """`work(session, actor)` off the loop, acting as the state's logged-in member."""
    who = state._who()
    return await _run(state, lambda: _in_scope(lambda s: work(s, actor_of(s, who))), field, quiet)


async def in_session(
    state: Any,
    work: Callable[[Session], T],
    *,
    field: Field = None,
    quiet: bool = False,
) -> Outcome[T]:
    """`work(session)` off the loop (no member yet: login, setup, page guards)."""
    return await _run(state, lambda: _in_scope(work), field, quiet)


def _in_scope(work: Callable[[Session], T]) -> T:
    with session_scope() as session:
        return work(session)


async def _run(state: Any, job: Callable[[], T], field: Field, quiet: bool) -> Outcome[T]:
    try:
        return Outcome(value=await asyncio.to_thread(job))
    except ServiceError as error:
        if field and isinstance(error, ValidationFailed):
            key = field(error) if callable(field) else field
            state.errors = {**state.errors, key: error.message}
            return Outcome(error=error)
        return Outcome(error=error, toast=None if quiet else rx.toast.error(error.message))
