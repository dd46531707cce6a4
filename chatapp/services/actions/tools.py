"""The bot's enabled actions as OpenAI tools, and a model's tool call run as one of them.

Each action becomes a function named `<kind>_<id>` whose description is the owner's "when to use
it" text; an HTTP action's parameters are its JSON schema (our `x-` keys removed), the others take
an optional `reason`. A call's result goes back to the model as text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from chatapp.services.actions import execute as runner
from chatapp.services.actions import run_log
from chatapp.services.actions.store import Snapshot
from chatapp.services.actions.template_http import strip_extensions
from chatapp.services.models import ActionRunOutcome

REASON_SCHEMA = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "Why, in a few words."}},
}
WHAT = {
    "collect_lead": "Show the visitor a form to leave their contact details.",
    "handoff": "Hand the conversation over to a human agent.",
    "http": "Call an API and get its answer.",
    "link": "Show the visitor a button linking to a page.",
}


def tool_name(action: Snapshot) -> str:
    return f"{action.kind}_{action.id}"


def as_tools(actions: list[Snapshot]) -> list[dict[str, Any]]:
    tools = []
    for action in actions:
        description = f"{action.name}. {WHAT.get(action.kind, '')} Use when: " + (
            action.config.get("description") or "the visitor asks for it."
        )
        if action.kind == "http":
            parameters = strip_extensions(action.config.get("parameters") or {})
            parameters.setdefault("type", "object")
            parameters.setdefault("properties", {})
        else:
            parameters = REASON_SCHEMA
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": tool_name(action),
                    "description": description[:1000],
                    "parameters": parameters,
                },
            }
        )
    return tools


def run_call(
    session: Session,
    actions: list[Snapshot],
    *,
    name: str,
    arguments: str,
    conversation_id: int | None,
) -> runner.Outcome:
    """Run the model's call of tool `name` with its JSON `arguments`; log it as trigger=model."""
    action = next((a for a in actions if tool_name(a) == name), None)
    if action is None:
        return runner.Outcome(ActionRunOutcome.REFUSED, output=f"There is no tool named {name}.")
    try:
        params = json.loads(arguments or "{}")
    except ValueError:
        params = None
    if not isinstance(params, dict):
        message = "The model's arguments were not a JSON object."
        run_log.record(
            session,
            workspace_id=action.workspace_id,
            bot_id=action.bot_id,
            action_id=action.id,
            trigger="model",
            input={"arguments": str(arguments)[:500]},
            outcome=ActionRunOutcome.REFUSED,
            error=message,
            conversation_id=conversation_id,
        )
        return runner.Outcome(
            ActionRunOutcome.REFUSED, output=f"The action failed: {message}", error=message
        )
    reason = ""
    if action.kind != "http":
        reason = str(params.pop("reason", "") or "")[:200]
        params = {}
    return runner.run(
        session,
        action,
        trigger="model",
        params=params,
        conversation_id=conversation_id,
        reason=reason,
    )
