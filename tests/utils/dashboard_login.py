"""A plain dashboard state logged in as a browser would be: the session token in the cookie
header of the websocket's handshake, where `AuthState._token` reads it."""

from __future__ import annotations

import re

import reflex as rx
from reflex.istate.data import HeaderData

from chatapp.core.db import session_scope
from chatapp.services.accounts import auth

TICKET = re.compile(r"\[\\?\"ticket\\?\"\]\.value = \\?\"([\w-]+)")


def sign_in(state: rx.State, token: str) -> None:
    """Give `state` (and the tree it belongs to) the handshake of a browser holding `token`."""
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    headers = HeaderData(cookie=f"theme=dark; {auth.SESSION_COOKIE}={token}")
    for each in [root, *_substates(root)]:
        each.rx_router_headers = headers


def _substates(state: rx.State):
    for sub in state.substates.values():
        yield sub
        yield from _substates(sub)


def trade_ticket(events) -> str:
    """What the browser does with the login event's script: trade its ticket for a session."""
    found = TICKET.search(repr(events))
    assert found, f"no login ticket in {events!r}"
    with session_scope() as session:
        return auth.redeem_ticket(session, found.group(1)).token
