"""Run one action (for a rule, the model, or the Test button) and log the run.

The HTTP call happens before anything is written, so no database transaction stays open while a
remote service answers. Every run leaves an `actionrun` row, whatever its outcome.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from chatapp.core.errors import ServiceError
from chatapp.services.accounts.tenancy import Actor, Permission, require_current
from chatapp.services.actions import http_call, run_log, store, templates
from chatapp.services.actions.common import ActionFailed
from chatapp.services.actions.store import Snapshot
from chatapp.services.live import handoff
from chatapp.services.models import ActionRunOutcome, Conversation

log = logging.getLogger(__name__)
LEAD_FORM_SHOWN = "A form asking for the visitor's contact details is shown to the visitor."


def _failed(message: str) -> str:
    return f"The action failed: {message}"


@dataclass
class Outcome:
    outcome: str  # ok, error, refused
    output: str = ""  # what happened, in words (the model reads it as the tool's result)
    error: str = ""
    event: dict[str, Any] | None = None  # the `action` event for the widget, if any
    answer: str | None = None  # an HTTP action's offline answer (its answer_template filled)
    offered: dict[str, Any] = field(default_factory=dict)  # what message.actions records


def test_action(
    session: Session,
    actor: Actor,
    action_id: int,
    bot_id: int | None = None,
    *,
    params: dict[str, Any] | None = None,
) -> Outcome:
    """The Test button and the API's test route: an owner or admin runs a saved action now.

    The member's role is read again here: an HTTP action calls out, so a page opened before its
    member was demoted must not run it."""
    require_current(session, actor, Permission.MANAGE_BOTS)
    action = store.get_action(session, actor, action_id, bot_id)
    return run(session, store.snapshot(action), trigger="test", params=params)


def run(
    session: Session,
    action: Snapshot,
    *,
    trigger: str,
    params: dict[str, Any] | None = None,
    conversation_id: int | None = None,
    reason: str = "",
) -> Outcome:
    """Run `action` and log it; never raises for the action's own failures."""
    started = time.perf_counter()
    params = dict(params or {})
    try:
        outcome = _run(session, action, trigger, params, conversation_id, reason)
    except ActionFailed as exc:
        outcome = Outcome(exc.outcome, output=_failed(exc.message), error=exc.message)
    except ServiceError as exc:
        outcome = Outcome(ActionRunOutcome.ERROR, output=_failed(exc.message), error=exc.message)
    except Exception:  # a bug must not break the visitor's chat: log it, record it
        log.exception("action %s failed", action.id)
        outcome = Outcome(
            ActionRunOutcome.ERROR, output="The action failed.", error="Unexpected error."
        )
    outcome.offered = {
        "kind": action.kind,
        "action_id": action.id,
        "name": action.name,
        "outcome": outcome.outcome,
        **(outcome.event or {}),
    }
    run_log.record(
        session,
        workspace_id=action.workspace_id,
        bot_id=action.bot_id,
        action_id=action.id,
        trigger=trigger,
        input={**params, **({"reason": reason} if reason else {})},
        outcome=outcome.outcome,
        output=outcome.answer or outcome.output,
        error=outcome.error,
        duration_ms=round((time.perf_counter() - started) * 1000),
        conversation_id=conversation_id,
    )
    return outcome


def _run(session, action, trigger, params, conversation_id, reason) -> Outcome:
    config = action.config
    if action.kind == "http":
        result = http_call.call(config, params)
        answer = http_call.fill_template(
            config.get("answer_template") or "{result}",
            {**params, "result": result.result, "status": result.status},
        )
        return Outcome(ActionRunOutcome.OK, output=result.result, answer=answer)
    if action.kind == "link":
        event = {"kind": "link", "label": config["label"], "url": config["url"]}
        shown = f"A button '{config['label']}' ({config['url']}) is shown to the visitor."
        return Outcome(ActionRunOutcome.OK, output=shown, event=event)
    if action.kind == "collect_lead":
        event = {"kind": "lead_form", **templates.lead_form(config), "reason": reason}
        return Outcome(ActionRunOutcome.OK, output=LEAD_FORM_SHOWN, event=event)
    if action.kind == "handoff":
        return _handoff(session, config, trigger, conversation_id)
    return Outcome(ActionRunOutcome.ERROR, error=f"Unknown action kind '{action.kind}'.")


def _handoff(session: Session, config: dict, trigger: str, conversation_id: int | None) -> Outcome:
    if trigger == "test" or conversation_id is None:
        return Outcome(
            ActionRunOutcome.OK, output="Ready: a visitor would be handed over to a person."
        )
    conversation = session.get_one(Conversation, conversation_id)
    handoff.request(session, conversation, reason="model" if trigger == "model" else "rule")
    status = conversation.status
    message = config.get("connecting_message", "")
    if status not in handoff.OPEN:
        message = config.get("unavailable_message", "")
    event = {"kind": "handoff", "status": status, "message": message}
    return Outcome(ActionRunOutcome.OK, output=message, event=event)
