"""Actions over HTTP: a bot's actions and their run log (members).

Admin routes take a login or API token of the workspace; changing actions needs owner or admin.
Bad settings answer 422 `{detail, errors: {field: message}}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.actions import execute as runner
from chatapp.services.actions import run_log, store
from chatapp.services.actions.common import ActionInvalid
from chatapp.services.actions.schemas import ActionIn, ActionPatch

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/bots/{bot_id}", tags=["actions"])

INVALID = {422: {"description": "Invalid settings: `{detail, errors: {field: message}}`."}}


class ActionOut(BaseModel):
    id: int
    bot_id: int
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TestIn(BaseModel):
    input: dict[str, Any] = Field(
        default_factory=dict, description="Sample parameters (an HTTP action's JSON schema)."
    )


class RunOut(BaseModel):
    id: int
    action_id: int
    action_name: str
    kind: str
    conversation_id: int | None
    trigger: str = Field(description="rule, model, visitor or test")
    input: dict[str, Any]
    outcome: str = Field(description="ok, error or refused")
    output: str
    error: str
    duration_ms: int
    created_at: datetime


def _invalid(exc: ActionInvalid) -> JSONResponse:
    return JSONResponse({"detail": exc.message, "errors": exc.errors}, status_code=422)


def _out(action) -> ActionOut:
    return ActionOut(**vars(store.view(action)))


@router.get("/actions", response_model=list[ActionOut])
def list_actions(
    bot_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    """The bot's actions (secret header values never included)."""
    return [_out(a) for a in store.list_actions(session, actor, bot_id)]


@router.post("/actions", response_model=ActionOut, status_code=201, responses=INVALID)
def create_action(
    bot_id: Id,
    body: ActionIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Add an action from a template (`kind`), with your settings over the template's."""
    try:
        action = store.create_action(
            session, actor, bot_id, kind=body.kind, name=body.name, config=body.config,
            enabled=body.enabled,
        )  # fmt: skip
    except ActionInvalid as exc:
        return _invalid(exc)
    return _out(action)


# Before /actions/{action_id}, which would otherwise take "runs" for an id.
@router.get("/actions/runs", response_model=list[RunOut])
def list_runs(
    bot_id: Id,
    action_id: Id | None = None,
    limit: Id = 50,
    offset: Id = 0,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """The bot's action runs, newest first (`?action_id=` for one action's)."""
    found = run_log.list_runs(
        session, actor, bot_id, action_id=action_id, limit=limit, offset=offset
    )
    return [RunOut(**vars(r)) for r in found]


@router.get("/actions/{action_id}", response_model=ActionOut)
def get_action(
    bot_id: Id,
    action_id: Id,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return _out(store.get_action(session, actor, action_id, bot_id))


@router.patch("/actions/{action_id}", response_model=ActionOut, responses=INVALID)
def update_action(
    bot_id: Id,
    action_id: Id,
    body: ActionPatch,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Rename, enable or disable, or replace the config of an action."""
    store.get_action(session, actor, action_id, bot_id)
    try:
        action = store.update_action(
            session, actor, action_id, name=body.name, config=body.config, enabled=body.enabled
        )
    except ActionInvalid as exc:
        return _invalid(exc)
    return _out(action)


@router.delete("/actions/{action_id}", status_code=204)
def delete_action(
    bot_id: Id,
    action_id: Id,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Delete an action and its run log."""
    store.get_action(session, actor, action_id, bot_id)
    store.delete_action(session, actor, action_id)


@router.post("/actions/{action_id}/test", response_model=RunOut)
def test_action(
    bot_id: Id,
    action_id: Id,
    body: TestIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Run the action now with sample input (logged with trigger `test`); the run is returned.

    An HTTP action really calls its service (through the SSRF guard: an internal address is
    `refused` with the reason in `error`)."""
    runner.test_action(session, actor, action_id, bot_id, params=body.input)
    return RunOut(
        **vars(run_log.list_runs(session, actor, bot_id, action_id=action_id, limit=1)[0])
    )
