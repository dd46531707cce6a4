"""Validation of a bot's editable fields, in words a person understands (pydantic validators of
`BotCreate`/`BotUpdate` in models.py): colour, allowed domains, starter questions, audiences."""

from __future__ import annotations

import re
from typing import Any


def check_color(value: str | None) -> str | None:
    if value is None:
        return value
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError("accent colour must look like #4f46e5")
    return value.lower()


# A bot's answering settings (also tried unsaved in the playground: services/chat/schemas.py).
MAX_INSTRUCTIONS = 20_000
MAX_MODEL = 100
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.0, 2.0

MAX_ALLOWED_DOMAINS = 50
MAX_STARTER_QUESTIONS = 6
_DOMAIN = re.compile(r"(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+")


def check_domains(value: list[str] | None) -> list[str] | None:
    """Host names as people paste them (`https://www.shop.com/page`, `*.shop.com`) -> hosts."""
    if value is None:
        return value
    hosts: list[str] = []
    for raw in value:
        host = raw.strip().lower()
        if "://" in host:
            host = host.split("://", 1)[1]
        host = host.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        if host.count(":") == 1:
            host = host.split(":", 1)[0]
        host = host.rstrip(".")
        if not host:
            continue
        if len(host) > 253 or not _DOMAIN.fullmatch(host):
            raise ValueError(f"{raw.strip()!r} is not a domain name like shop.com")
        if host not in hosts:
            hosts.append(host)
    if len(hosts) > MAX_ALLOWED_DOMAINS:
        raise ValueError(f"at most {MAX_ALLOWED_DOMAINS} allowed domains")
    return hosts


def check_starters(value: list[str] | None) -> list[str] | None:
    if value is None:
        return value
    questions = [q.strip() for q in value if q and q.strip()]
    if len(questions) > MAX_STARTER_QUESTIONS:
        raise ValueError(f"at most {MAX_STARTER_QUESTIONS} starter questions")
    if any(len(q) > 200 for q in questions):
        raise ValueError("a starter question has at most 200 characters")
    return questions


MAX_AUDIENCES = 6
_AUDIENCE_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def check_audiences(value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """[{key, label, instructions, starter_questions}]; a missing key is made from the label."""
    if value is None:
        return value
    audiences: list[dict[str, Any]] = []
    for raw in value:
        if not isinstance(raw, dict):
            raise ValueError("each audience is an object with a label")
        label = str(raw.get("label") or "").strip()
        if not label or len(label) > 40:
            raise ValueError("an audience needs a label of 1 to 40 characters")
        key = str(raw.get("key") or "").strip().lower()
        key = key or re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or "audience"
        if not _AUDIENCE_KEY.fullmatch(key):
            raise ValueError(f"audience key {key!r}: lowercase letters, digits, '-' or '_'")
        if any(a["key"] == key for a in audiences):
            raise ValueError(f"two audiences have the key {key!r}")
        instructions = str(raw.get("instructions") or "").strip()
        if len(instructions) > 2000:
            raise ValueError("an audience's instructions have at most 2,000 characters")
        starters = check_starters(list(raw.get("starter_questions") or []))
        audiences.append(
            {
                "key": key,
                "label": label,
                "instructions": instructions,
                "starter_questions": starters,
            }
        )
    if len(audiences) > MAX_AUDIENCES:
        raise ValueError(f"at most {MAX_AUDIENCES} audiences")
    return audiences


def check_name(value: str | None) -> str | None:
    if value is None:
        return value
    value = value.strip()
    if not value:
        raise ValueError("name cannot be empty")
    return value
