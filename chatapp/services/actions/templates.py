"""Action kinds, their default configs, and validation of what an owner types into them.

`clean(kind, config, previous)` returns the config as stored, or raises `ActionInvalid` whose
`errors` map a field (dotted path) to a sentence. Secret header values are encrypted here and
never returned by `public_config`; an empty secret on edit keeps the stored one.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from zoneinfo import ZoneInfo

from chatapp.services.actions import template_http
from chatapp.services.actions.common import ActionInvalid, Problems, as_bool, as_int, text

KINDS = ("collect_lead", "handoff", "http", "link")
KIND_LABELS = {
    "collect_lead": "Collect lead",
    "handoff": "Hand over to a human",
    "http": "HTTP request / webhook",
    "link": "Show a link or button",
}
LEAD_FIELDS = ("name", "email", "phone", "message")
FIELD_TYPES = {"name": "text", "email": "email", "phone": "tel", "message": "textarea"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_LIST = 50

NO_RULES = {"keywords": [], "phrases": [], "on_fallback": False}

DEFAULTS: dict[str, dict[str, Any]] = {
    "collect_lead": {
        "description": "The visitor wants to buy, asks to be called back, or you cannot answer.",
        "rules": {"keywords": ["pricing", "quote", "callback"], "phrases": [], "on_fallback": True},
        "title": "Leave your details and we will get back to you",
        "fields": [
            {"name": "name", "label": "Name", "required": False},
            {"name": "email", "label": "Email", "required": True},
            {"name": "phone", "label": "Phone", "required": False},
            {"name": "message", "label": "Message", "required": False},
        ],
        "success_message": "Thanks! We will get back to you soon.",
        "webhook_url": "",
    },
    "handoff": {
        "description": "The visitor asks for a person, or is upset and the answers do not help.",
        "rules": dict(NO_RULES),
        "button_label": "Talk to a person",
        "phrases": ["talk to a person", "human agent", "speak to someone"],
        "fallback_threshold": 0,
        "hours": None,
        "wait_minutes": 5,
        "connecting_message": "Connecting you with a person. Please wait a moment.",
        "unavailable_message": "Nobody is available right now. Leave your details instead.",
    },
    "http": {
        "description": "Look up the status of an order when the visitor gives its number.",
        "rules": {"keywords": ["order"], "phrases": [], "on_fallback": False},
        "method": "GET",
        "url": template_http.EXAMPLE_URL,
        "headers": [],
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {
                    "type": "string",
                    "description": "The order number, digits only.",
                    "pattern": "^[0-9]{3,12}$",
                    "x-pattern": "\\b([0-9]{3,12})\\b",
                }
            },
            "required": ["order_id"],
        },
        "timeout_seconds": 10,
        "max_response_bytes": 100_000,
        "response_path": "status",
        "answer_template": "Order {order_id}: {result}",
    },
    "link": {
        "description": "The visitor wants to book a call or a demo.",
        "rules": {"keywords": ["book", "demo", "appointment"], "phrases": [], "on_fallback": False},
        "label": "Book a call",
        "url": "https://example.com/book",
    },
}


def defaults(kind: str) -> dict[str, Any]:
    """A fresh copy of a kind's template config."""
    check_kind(kind)
    return copy.deepcopy(DEFAULTS[kind])


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ActionInvalid({"kind": f"Choose one of: {', '.join(KINDS)}."})


def clean(
    kind: str, config: dict[str, Any] | None, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The validated config to store (missing keys take the template's values)."""
    check_kind(kind)
    raw = defaults(kind)
    raw.update(config or {})
    problems = Problems()
    out: dict[str, Any] = {
        "description": text(problems, raw, "description", 500),
        "rules": _rules(problems, raw.get("rules")),
    }
    if kind == "collect_lead":
        out.update(_collect_lead(problems, raw))
    elif kind == "handoff":
        out.update(_handoff(problems, raw))
    elif kind == "http":
        out.update(template_http.clean(problems, raw, (previous or {}).get("headers") or []))
    else:
        out["label"] = text(problems, raw, "label", 80, required=True)
        out["url"] = template_http.plain_url(problems, raw, "url", required=True)
    problems.raise_if_any()
    return out


def public_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the dashboard and API show it: secret values never leave the server."""
    shown = copy.deepcopy(config)
    if kind == "http":
        shown["headers"] = [template_http.public_header(h) for h in config.get("headers") or []]
    return shown


def _words(problems: Problems, value: Any, where: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\n]", value)]
    if not isinstance(value, list):
        problems.add(where, "Give a list of words or phrases.")
        return []
    items = [str(item).strip() for item in value if str(item).strip()]
    if len(items) > MAX_LIST:
        problems.add(where, f"Use at most {MAX_LIST} entries.")
    if any(len(item) > 200 for item in items):
        problems.add(where, "Keep each entry under 200 characters.")
    return list(dict.fromkeys(items))[:MAX_LIST]


def _rules(problems: Problems, value: Any) -> dict[str, Any]:
    value = value if isinstance(value, dict) else {}
    return {
        "keywords": _words(problems, value.get("keywords"), "rules.keywords"),
        "phrases": _words(problems, value.get("phrases"), "rules.phrases"),
        "on_fallback": as_bool(value.get("on_fallback")),
    }


def _collect_lead(problems: Problems, raw: dict[str, Any]) -> dict[str, Any]:
    fields = raw.get("fields")
    cleaned: list[dict[str, Any]] = []
    if not isinstance(fields, list) or not fields:
        problems.add("fields", "Choose at least one field for the form.")
        fields = []
    for item in fields:
        item = item if isinstance(item, dict) else {}
        name = str(item.get("name", "")).strip()
        if name not in LEAD_FIELDS:
            problems.add("fields", f"A field must be one of: {', '.join(LEAD_FIELDS)}.")
            continue
        if any(f["name"] == name for f in cleaned):
            problems.add("fields", f"The field '{name}' is listed twice.")
            continue
        label = str(item.get("label") or name.capitalize()).strip()[:60]
        cleaned.append({"name": name, "label": label, "required": as_bool(item.get("required"))})
    if cleaned and not any(f["name"] in ("email", "phone") for f in cleaned):
        problems.add("fields", "Add an email or a phone field, so you can get back to them.")
    return {
        "title": text(problems, raw, "title", 120, required=True),
        "fields": cleaned,
        "success_message": text(problems, raw, "success_message", 300, required=True),
        "webhook_url": template_http.outgoing_url(problems, raw, "webhook_url"),
    }


def _handoff(problems: Problems, raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "button_label": text(problems, raw, "button_label", 40, required=True),
        "phrases": _words(problems, raw.get("phrases"), "phrases"),
        "fallback_threshold": as_int(problems, raw, "fallback_threshold", 0, 20),
        "hours": _hours(problems, raw.get("hours")),
        "wait_minutes": as_int(problems, raw, "wait_minutes", 0, 1440),
        "connecting_message": text(problems, raw, "connecting_message", 300, required=True),
        "unavailable_message": text(problems, raw, "unavailable_message", 300, required=True),
    }


def _hours(problems: Problems, value: Any) -> dict[str, Any] | None:
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        problems.add("hours", "Give opening hours as {timezone, days}, or leave them empty.")
        return None
    timezone = str(value.get("timezone") or "UTC").strip()
    try:
        ZoneInfo(timezone)
    except Exception:
        problems.add("hours.timezone", f"Unknown time zone '{timezone}', e.g. Europe/Paris.")
    days: dict[str, list[str]] = {}
    for day, span in (value.get("days") or {}).items():
        if day not in DAYS:
            problems.add("hours.days", f"Days are written {', '.join(DAYS)}.")
            continue
        if (
            not isinstance(span, list | tuple)
            or len(span) != 2
            or not all(isinstance(t, str) and HHMM.match(t) for t in span)
            or span[0] >= span[1]
        ):
            problems.add(f"hours.days.{day}", 'Write hours as ["09:00", "17:00"], start first.')
            continue
        days[day] = [span[0], span[1]]
    return {"timezone": timezone, "days": days}


def lead_form(config: dict[str, Any]) -> dict[str, Any]:
    """What the widget needs to draw the lead form of a collect_lead config."""
    return {
        "title": config.get("title", ""),
        "fields": [
            {
                "name": f["name"],
                "label": f["label"],
                "type": FIELD_TYPES[f["name"]],
                "required": bool(f.get("required")),
            }
            for f in config.get("fields") or []
        ],
    }
