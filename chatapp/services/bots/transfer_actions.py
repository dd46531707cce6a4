"""A bot's actions in a bot file: secrets blanked on the way out, blanks to fill in on the way in.

What counts as a secret: a header marked secret (stored encrypted), a header or query parameter
whose name says key/token/secret/password (`audit.is_secret`: someone may have typed a token in a
plain header), and a lead form's webhook address (Slack, Zapier and the like put their token in
it). Each blank is listed in the file's `to_fill_in`. On import an action with anything to fill
in is created switched off; a blank secret header is kept by name (marked secret, no value), so
the editor asks for its value before the action can be saved, and a run refuses in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlmodel import Session

from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.actions import store, templates
from chatapp.services.actions.common import ActionInvalid, as_bool
from chatapp.services.bots.transfer_format import ActionEntry
from chatapp.services.models import Action

SECRET_HEADER = "the value of a secret header"
SECRET_NAMED = "a value whose name says it is a key or token"
WEBHOOK = "a webhook address often carries its own token"


# --- export ----------------------------------------------------------------------------------


def exportable(action: Action) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The action as the file holds it, and what was blanked ({action, field, why} each)."""
    config = templates.public_config(action.kind, action.config or {})
    blanks: list[tuple[str, str]] = []
    if action.kind == "http":
        config["headers"] = [_header_out(h, blanks) for h in config.get("headers") or []]
        config["url"] = _url_out(str(config.get("url") or ""), "url", blanks)
    if action.kind == "collect_lead" and config.get("webhook_url"):
        config["webhook_url"] = ""
        blanks.append(("webhook_url", WEBHOOK))
    entry = {"kind": action.kind, "name": action.name, "enabled": action.enabled, "config": config}
    fill_in = [{"action": action.name, "field": f, "why": why} for f, why in blanks]
    return entry, fill_in


def _header_out(header: dict[str, Any], blanks: list[tuple[str, str]]) -> dict[str, Any]:
    name, secret = str(header.get("name", "")), bool(header.get("secret"))
    value = "" if secret else str(header.get("value", ""))
    if secret:
        blanks.append((f"headers.{name}", SECRET_HEADER))
    elif value and audit.is_secret(name):
        value = ""
        blanks.append((f"headers.{name}", SECRET_NAMED))
    return {"name": name, "value": value, "secret": secret}


def _url_out(url: str, where: str, blanks: list[tuple[str, str]]) -> str:
    """The address with the values of secret-named query parameters blanked (`?api_key=`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    kept = []
    for pair in parts.query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and audit.is_secret(name):
            blanks.append((f"{where}?{name}", SECRET_NAMED))
            value = ""
        kept.append(f"{name}{sep}{value}")
    return urlunsplit(parts._replace(query="&".join(kept)))


# --- import ----------------------------------------------------------------------------------


@dataclass
class Prepared:
    """An action of the file, checked: created as is (plus its blank secret headers)."""

    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]
    blank_secrets: list[str] = field(default_factory=list)  # secret headers without a value
    to_fill_in: list[str] = field(default_factory=list)

    @property
    def switched_off(self) -> bool:
        return bool(self.blank_secrets or self.to_fill_in)


def prepare(entries: list[ActionEntry], fill_ins: list[Any]) -> tuple[list[Prepared], list[str]]:
    """Each action checked as the editor checks it; the problems in words (none: all fine)."""
    prepared, problems = [], []
    seen_kinds: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        label = f"action {number} ({entry.name or entry.kind})"
        try:
            item = _prepare_one(entry)
        except ActionInvalid as error:
            problems += [f"{label} > {where}: {words}" for where, words in error.errors.items()]
            continue
        if item.kind in store.SINGLE_KINDS and item.kind in seen_kinds:
            problems.append(f"{label}: a bot has one '{templates.KIND_LABELS[item.kind]}' action")
        seen_kinds.add(item.kind)
        item.to_fill_in = [
            f"{fill.field} ({fill.why})" if fill.why else fill.field
            for fill in fill_ins
            if fill.action == item.name
        ] + [f"headers.{name} ({SECRET_HEADER})" for name in item.blank_secrets]
        item.to_fill_in = list(dict.fromkeys(item.to_fill_in))
        prepared.append(item)
    return prepared, problems


def _prepare_one(entry: ActionEntry) -> Prepared:
    templates.check_kind(entry.kind)
    config = dict(entry.config)
    blank: list[str] = []
    checked = config
    headers = config.get("headers")
    if entry.kind == "http" and isinstance(headers, list):
        kept = []
        for header in headers:
            secret = isinstance(header, dict) and as_bool(header.get("secret"))
            if secret and not str(header.get("value") or ""):
                blank.append(str(header.get("name", "")))
                continue
            kept.append(header)
        config["headers"] = kept
        # The blank ones' names are checked as plain headers' would be; stored without them.
        named = [{"name": name, "value": "x", "secret": False} for name in blank]
        checked = {**config, "headers": kept + named}
    templates.clean(entry.kind, checked)  # refused now, before anything is written
    name = (entry.name or "").strip() or templates.KIND_LABELS[entry.kind]
    return Prepared(entry.kind, name, entry.enabled, config, blank)


def create(session: Session, actor: Actor, bot_id: int, item: Prepared) -> Action:
    """The action in the new bot, through the actions service (same checks, same audit)."""
    action = store.create_action(
        session,
        actor,
        bot_id,
        kind=item.kind,
        name=item.name,
        config=item.config,
        enabled=item.enabled and not item.switched_off,
    )
    if item.blank_secrets:
        blanks = [
            {"name": name, "value": "", "secret": True, "value_encrypted": ""}
            for name in item.blank_secrets
        ]
        action.config = {**action.config, "headers": [*action.config["headers"], *blanks]}
        session.add(action)
        session.flush()
    return action
