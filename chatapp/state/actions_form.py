"""The Actions editor's form <-> an action's config (plain strings in, a config dict out).

No Reflex here: the page's state calls these, and tests can call them directly. Lists are typed
comma-separated; in the lead form's field list a `*` marks a required field (`email*`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from chatapp.services.actions.common import ActionInvalid


@dataclass
class ActionDraft:
    name: str = ""
    description: str = ""
    keywords: str = ""
    phrases: str = ""
    on_fallback: bool = False
    label: str = ""
    url: str = ""
    method: str = "GET"
    parameters: str = ""
    response_path: str = ""
    answer_template: str = ""
    timeout_seconds: str = "10"
    max_response_bytes: str = "100000"
    header_name: str = ""
    header_value: str = ""
    header_secret: bool = True
    header_saved: bool = False  # a secret value is stored (left empty: kept)
    title: str = ""
    lead_fields: str = ""
    success_message: str = ""
    webhook_url: str = ""
    button_label: str = ""
    handoff_phrases: str = ""
    fallback_threshold: str = "0"
    wait_minutes: str = "5"
    connecting_message: str = ""
    unavailable_message: str = ""


def _join(items: list[str]) -> str:
    return ", ".join(items or [])


def _split(value: str) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def draft_of(name: str, config: dict[str, Any]) -> ActionDraft:
    """The form's values for a stored (public) config."""
    rules = config.get("rules") or {}
    header = (config.get("headers") or [{}])[0]
    return ActionDraft(
        name=name,
        description=config.get("description", ""),
        keywords=_join(rules.get("keywords")),
        phrases=_join(rules.get("phrases")),
        on_fallback=bool(rules.get("on_fallback")),
        label=config.get("label", ""),
        url=config.get("url", ""),
        method=config.get("method", "GET"),
        parameters=json.dumps(config.get("parameters") or {}, indent=2),
        response_path=config.get("response_path", ""),
        answer_template=config.get("answer_template", ""),
        timeout_seconds=str(config.get("timeout_seconds", 10)),
        max_response_bytes=str(config.get("max_response_bytes", 100_000)),
        header_name=header.get("name", ""),
        header_value=header.get("value", ""),
        header_secret=bool(header.get("secret", True)),
        header_saved=bool(header.get("has_value")) and bool(header.get("secret")),
        title=config.get("title", ""),
        lead_fields=_join(
            [f["name"] + ("*" if f.get("required") else "") for f in config.get("fields") or []]
        ),
        success_message=config.get("success_message", ""),
        webhook_url=config.get("webhook_url", ""),
        button_label=config.get("button_label", ""),
        handoff_phrases=_join(config.get("phrases")),
        fallback_threshold=str(config.get("fallback_threshold", 0)),
        wait_minutes=str(config.get("wait_minutes", 5)),
        connecting_message=config.get("connecting_message", ""),
        unavailable_message=config.get("unavailable_message", ""),
    )


def from_form(form: dict[str, Any]) -> ActionDraft:
    values = {}
    for item in fields(ActionDraft):
        raw = form.get(item.name)
        if item.type in ("bool", bool):
            values[item.name] = raw in (True, "on", "true", "1")
        else:
            values[item.name] = "" if raw is None else str(raw)
    return ActionDraft(**values)


def config_of(kind: str, draft: ActionDraft, stored: dict[str, Any]) -> dict[str, Any]:
    """The config to save: the stored one with the form's values over it."""
    config = dict(stored)
    config["description"] = draft.description
    config["rules"] = {
        "keywords": _split(draft.keywords),
        "phrases": _split(draft.phrases),
        "on_fallback": draft.on_fallback,
    }
    if kind == "link":
        config.update(label=draft.label, url=draft.url)
    elif kind == "http":
        try:
            parameters = json.loads(draft.parameters) if draft.parameters.strip() else {}
        except ValueError as exc:
            raise ActionInvalid({"parameters": f"Not valid JSON: {exc.msg}."}) from exc
        headers = []
        if draft.header_name.strip():
            headers.append(
                {
                    "name": draft.header_name,
                    "value": draft.header_value,
                    "secret": draft.header_secret,
                }
            )
        config.update(
            method=draft.method,
            url=draft.url,
            parameters=parameters,
            response_path=draft.response_path,
            answer_template=draft.answer_template,
            timeout_seconds=draft.timeout_seconds,
            max_response_bytes=draft.max_response_bytes,
            headers=headers,
        )
    elif kind == "collect_lead":
        config.update(
            title=draft.title,
            success_message=draft.success_message,
            webhook_url=draft.webhook_url,
            fields=[
                {"name": item.rstrip("*").strip().lower(), "required": item.endswith("*")}
                for item in _split(draft.lead_fields)
            ],
        )
    elif kind == "handoff":
        config.update(
            button_label=draft.button_label,
            phrases=_split(draft.handoff_phrases),
            fallback_threshold=draft.fallback_threshold,
            wait_minutes=draft.wait_minutes,
            connecting_message=draft.connecting_message,
            unavailable_message=draft.unavailable_message,
        )
    return config
