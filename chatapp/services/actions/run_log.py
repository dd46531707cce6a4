"""The run log: one row per action run (rule, model, visitor or test), newest first per bot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col

from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.models import Action, ActionRun, Bot

MAX_OUTPUT = 4000
MAX_INPUT_CHARS = 4000


@dataclass(frozen=True)
class RunView:
    id: int
    action_id: int
    action_name: str
    kind: str
    conversation_id: int | None
    trigger: str
    input: dict[str, Any]
    outcome: str
    output: str
    error: str
    duration_ms: int
    created_at: datetime


def _small(data: dict[str, Any]) -> dict[str, Any]:
    """The input as stored: a run log is not a place for megabytes."""
    if len(json.dumps(data, default=str)) <= MAX_INPUT_CHARS:
        return data
    return {"truncated": json.dumps(data, default=str)[:MAX_INPUT_CHARS]}


def record(
    session: Session,
    *,
    workspace_id: int,
    bot_id: int,
    action_id: int,
    trigger: str,
    input: dict[str, Any],
    outcome: str,
    output: str = "",
    error: str = "",
    duration_ms: int = 0,
    conversation_id: int | None = None,
) -> ActionRun:
    run = ActionRun(
        workspace_id=workspace_id,
        bot_id=bot_id,
        action_id=action_id,
        conversation_id=conversation_id,
        trigger=trigger,
        input=_small(input),
        outcome=outcome,
        output=output[:MAX_OUTPUT],
        error=error[:1000],
        duration_ms=max(0, int(duration_ms)),
    )
    session.add(run)
    session.flush()
    return run


def list_runs(
    session: Session,
    actor: Actor,
    bot_id: int,
    *,
    action_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RunView]:
    """The bot's runs, newest first (optionally one action's)."""
    actor.require(Permission.READ)
    get_scoped(session, actor, Bot, bot_id, "Bot")
    statement = (
        scoped_select(actor, ActionRun)
        .where(ActionRun.bot_id == bot_id)
        .order_by(col(ActionRun.created_at).desc(), col(ActionRun.id).desc())
        .offset(max(0, offset))
        .limit(max(1, min(limit, 200)))
    )
    if action_id is not None:
        statement = statement.where(ActionRun.action_id == action_id)
    rows = list(session.exec(statement))
    ids = {r.action_id for r in rows}
    actions = {
        a.id: a for a in session.exec(scoped_select(actor, Action).where(col(Action.id).in_(ids)))
    }
    return [
        RunView(
            id=r.id,
            action_id=r.action_id,
            action_name=actions[r.action_id].name if r.action_id in actions else "",
            kind=actions[r.action_id].kind if r.action_id in actions else "",
            conversation_id=r.conversation_id,
            trigger=r.trigger,
            input=dict(r.input or {}),
            outcome=r.outcome,
            output=r.output,
            error=r.error,
            duration_ms=r.duration_ms,
            created_at=r.created_at,
        )
        for r in rows
    ]
