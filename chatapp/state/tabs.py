"""Whether the browser tab behind a background event is still connected."""

from __future__ import annotations

import reflex as rx
from reflex_base.registry import RegistrationContext
from reflex_base.utils.exceptions import ReflexRuntimeError


async def tab_is_open(state: rx.State) -> bool:
    """A closed tab's follower stops at its next wake-up, instead of re-checking the database every
    few seconds for nobody and sending its changes to a socket that is gone (Reflex logs each
    such send). Outside a running app (plain states in tests) every tab counts as open."""
    try:
        namespace = RegistrationContext.get().app.event_namespace
    except (LookupError, ReflexRuntimeError):  # no app: a state made by a test
        return True
    if namespace is None:
        return True
    # The same check Reflex makes before it updates another client's shared state.
    token_manager = namespace._token_manager
    return await token_manager.is_token_connected(state.router.session.client_token)
