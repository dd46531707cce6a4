"""Offline choice of actions: the owner's rules per action, and parameters read from a message.

A keyword matches a whole word (case-insensitive), a phrase a case-insensitive substring, and
`on_fallback` fires when the bot could not answer. For HTTP actions each parameter's `x-pattern`
(a regular expression) extracts its value from the message: the first group, or the whole match.
"""

from __future__ import annotations

import re
from typing import Any

from chatapp.services.actions.store import Snapshot

MAX_MESSAGE_FOR_PATTERNS = 4000


def reason(rules: dict[str, Any] | None, message: str, *, fell_back: bool) -> str | None:
    """Why these rules fire for the message ("keyword: order"), or None."""
    rules = rules or {}
    lowered = message.lower()
    for keyword in rules.get("keywords") or ():
        if re.search(rf"(?<!\w){re.escape(keyword.lower())}(?!\w)", lowered):
            return f"keyword: {keyword}"
    for phrase in rules.get("phrases") or ():
        if phrase.lower() in lowered:
            return f"phrase: {phrase}"
    if fell_back and rules.get("on_fallback"):
        return "the bot could not answer"
    return None


def pick(actions: list[Snapshot], message: str, *, fell_back: bool) -> list[tuple[Snapshot, str]]:
    """The enabled actions whose rules fire, in order, with the reason for each."""
    picked = []
    for action in actions:
        why = reason(action.config.get("rules"), message, fell_back=fell_back)
        if action.kind == "handoff" and why is None:
            why = _handoff_phrase(action.config, message)
        if why is not None:
            picked.append((action, why))
    return picked


def _handoff_phrase(config: dict[str, Any], message: str) -> str | None:
    lowered = message.lower()
    for phrase in config.get("phrases") or ():
        if phrase.lower() in lowered:
            return f"phrase: {phrase}"
    return None


def extract_parameters(schema: dict[str, Any], message: str) -> dict[str, Any]:
    """Each property's value found in the message by its `x-pattern` (typed per its schema)."""
    text = message[:MAX_MESSAGE_FOR_PATTERNS]
    values: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        pattern = prop.get("x-pattern") if isinstance(prop, dict) else None
        if not pattern:
            continue
        found = re.search(pattern, text, re.IGNORECASE)
        if found is None:
            continue
        value = next((g for g in found.groups() if g is not None), found.group(0)).strip()
        values[name] = _typed(value, prop.get("type"))
    return values


def _typed(value: str, kind: Any) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    return value
