"""The dashboard's event handlers that take an id, called by workspace A's owner with B's ids.

Handlers are discovered from chatapp/state: one with a `*_id` argument that is not in CASES fails
the test by name. Each case runs the handler (and the handler that acts on what it opened, e.g.
`open_edit` then `save`) on a plain state instance logged in as A, then checks that B's rows are
unchanged and that no B marker reached the state's vars or the events the handler returned.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import pytest
import reflex as rx
from sqlmodel import select

import chatapp.state
from chatapp.core.db import session_scope
from chatapp.services.models import (
    Action,
    Bot,
    Contact,
    Conversation,
    Invitation,
    Membership,
    Message,
    Source,
)
from tests.utils.dashboard_login import sign_in
from tests.utils.handlers import run
from tests.utils.tenant_world import World, make_world

# (state class, handler) -> (arguments from B's world, follow-up (handler, args) on the same state)
CASES = {
    ("ActionsState", "open_edit"): (lambda b: [b.lead_action_id], [("save", [{"name": "pwned"}])]),
    ("ActionsState", "set_enabled"): (lambda b: [b.lead_action_id, False], []),
    ("ActionsState", "delete"): (lambda b: [b.lead_action_id], []),
    ("ActivityState", "open_conversation"): (lambda b: [b.conversation_id], []),
    ("AuthState", "switch_workspace"): (lambda b: [str(b.workspace_id)], []),
    ("BotScopeState", "switch_bot"): (lambda b: [str(b.bot_id)], []),
    ("BotsState", "start_rename"): (lambda b: [b.bot_id, "pwned"], [("rename", [{"name": "pwn"}])]),
    ("BotsState", "delete"): (lambda b: [b.bot_id], []),
    ("BotsState", "open_bot"): (lambda b: [b.bot_id], []),
    ("BotTransferState", "export"): (lambda b: [b.bot_id], []),
    ("ContactsState", "open_edit"): (lambda b: [b.contact_id], [("save", [{"name": "pwned"}])]),
    ("ContactsState", "delete"): (lambda b: [b.contact_id], []),
    ("ContactsState", "open_detail"): (lambda b: [b.contact_id], []),
    ("ContactsState", "download_data"): (lambda b: [b.contact_id], []),
    ("ContactsState", "erase"): (lambda b: [b.contact_id], []),
    ("InboxState", "set_bot_choice"): (lambda b: [str(b.bot_id)], []),
    ("InboxState", "select"): (
        lambda b: [b.conversation_id],
        [("take", []), ("send", [{"content": "pwned"}]), ("release", []), ("resolve", [])],
    ),
    ("InvitationsState", "revoke"): (lambda b: [b.invitation_id], []),
    ("SourcesState", "toggle_pages"): (lambda b: [b.source_id], []),
    ("SourceEditState", "toggle_edit"): (
        lambda b: [True, b.source_id],
        [("save_edit", [{"title": "pwned", "text": "pwned"}])],
    ),
    ("SourceDetailsState", "toggle_details"): (
        lambda b: [True, b.source_id],
        [("show_more_chunks", [])],
    ),
    ("ImproveAnswerState", "toggle_improve"): (
        lambda b: [True, b.answer_message_id],
        [("save_improve", [{"question": "pwned?", "answer": "pwned"}])],
    ),
    ("SourcesState", "retrain"): (lambda b: [b.source_id], []),
    ("SourcesState", "delete"): (lambda b: [b.source_id], []),
    ("TeamState", "change_role"): (lambda b: [b.user_ids["viewer"], "admin"], []),
    ("TeamState", "remove"): (lambda b: [b.user_ids["viewer"]], []),
}


def _state_classes() -> dict[str, type[rx.State]]:
    found = {}
    for info in pkgutil.iter_modules(chatapp.state.__path__):
        module = importlib.import_module(f"chatapp.state.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, rx.State) and cls.__module__ == module.__name__:
                found[cls.__name__] = cls
    return found


def _handlers_taking_ids() -> set[tuple[str, str]]:
    """(class that defines it, handler) for every event handler with an `*_id` parameter."""
    found = set()
    for name, cls in _state_classes().items():
        for handler_name, handler in cls.event_handlers.items():
            fn = handler.fn
            owner = fn.__qualname__.split(".")[0]
            params = inspect.signature(fn).parameters
            if owner == name and any(p.endswith("_id") for p in params):
                found.add((name, handler_name))
    return found


def test_every_id_taking_handler_is_in_the_matrix():
    assert _handlers_taking_ids() == set(CASES)


def _two_worlds() -> tuple[World, World]:
    return make_world("a"), make_world("b")


@pytest.fixture(params=["sqlite", "postgres"])
def worlds(request, tmp_path, monkeypatch, migrated_templates):
    """Workspaces A and B, built once per database kind and copied for each test (each case
    must find B as built, whatever an earlier case did)."""
    with migrated_templates.seeded(
        request.param, "two-worlds", _two_worlds, tmp_path / "test.db", monkeypatch
    ) as built:
        yield built


def _b_rows(workspace_id: int) -> str:
    """Workspace B as stored: must not change while A is refused."""
    with session_scope() as session:
        rows = []
        for model, fields in (
            (Bot, ("id", "name", "status", "updated_at")),
            (Action, ("id", "name", "enabled", "config")),
            (Contact, ("id", "name", "email")),
            (Source, ("id", "status", "question", "answer")),
            (Membership, ("user_id", "role")),
            (Conversation, ("id", "status", "assigned_user_id")),
            (Invitation, ("id", "revoked_at", "accepted_at")),
        ):
            for row in session.exec(select(model).where(model.workspace_id == workspace_id)):
                rows.append({f: getattr(row, f, None) for f in fields})
        conversation_ids = [r["id"] for r in rows if "assigned_user_id" in r]
        count = session.exec(
            select(Message.id).where(Message.conversation_id.in_(conversation_ids))
        ).all()
        rows.append({"messages": len(count)})
    return json.dumps(rows, default=str, sort_keys=True)


def _state_of(cls: type[rx.State], a: World):
    """A page state as A's owner sees it in a browser (a real session token), page loaded."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    sign_in(state, a.login_tokens["owner"])
    state.workspace_id, state.role = str(a.workspace_id), "owner"
    run(state.require_login())
    if hasattr(state, "load_bots"):
        state.chosen_bot = str(a.bot_id)
        run(state.load_bots())
    for loader in ("open_page", "load"):
        if loader in cls.event_handlers:
            run(getattr(state, loader)())
            break
    return state


@pytest.mark.parametrize(("cls_name", "handler"), sorted(CASES), ids=lambda v: str(v))
def test_handler_refuses_another_workspaces_ids(worlds, cls_name, handler):
    a, b = worlds
    state = _state_of(_state_classes()[cls_name], a)
    before = _b_rows(b.workspace_id)
    args, follow_ups = CASES[(cls_name, handler)]
    events = run(getattr(state, handler)(*args(b)))
    for name, follow_args in follow_ups:
        events += run(getattr(state, name)(*follow_args))
    assert _b_rows(b.workspace_id) == before
    seen = json.dumps(state.dict(), default=str) + repr(events)
    assert b.marker not in seen
    assert str(state.workspace_id) == str(a.workspace_id)


@pytest.mark.parametrize(
    ("cls_name", "handler", "arg"),
    [
        ("ActivityState", "open_conversation", "conversation_id"),
        ("ContactsState", "open_detail", "contact_id"),
        ("InboxState", "select", "conversation_id"),
    ],
)
def test_own_ids_open_and_show_the_marker(worlds, cls_name, handler, arg):
    """The same handlers with A's own ids do show A's data: the marker search is not vacuous."""
    a, _b = worlds
    state = _state_of(_state_classes()[cls_name], a)
    run(getattr(state, handler)(getattr(a, arg)))
    assert a.marker in json.dumps(state.dict(), default=str)
