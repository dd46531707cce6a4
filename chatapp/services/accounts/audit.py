"""The audit log: who changed what in a workspace, and when (issue 8).

Services that make admin changes call `record(...)` in the same transaction as the change, so an
entry exists exactly when the change was committed. `changes` keeps only the fields that changed,
as `{field: [before, after]}`; anything that looks like a secret (keys, tokens, passwords, hashes,
encrypted values, header values) is stored as "***", so the log never becomes a second copy of
the credentials it describes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.services.accounts.tenancy import Actor, Permission, scoped_select
from chatapp.services.models import AuditEntry

REDACTED = "***"
SECRET_WORDS = {
    "key", "secret", "password", "passwd", "token", "hash", "encrypted", "authorization",
    "credentials", "cookie",
}  # fmt: skip
NOT_SECRET = {"key_prefix", "prefix"}
MAX_PER_PAGE = 200
MAX_TEXT = 500  # long values (instructions, prompts) are cut: the log says what, not everything


def is_secret(field: str) -> bool:
    """`api_key`, `token_hash`, `value_encrypted`, `apiKey`, `password`: yes; `keywords`: no."""
    name = field.lower()
    if name in NOT_SECRET:
        return False
    parts = set(re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", field).lower()))
    return bool(parts & SECRET_WORDS) or any(w in name for w in ("password", "apikey", "secret"))


def _plain(value: Any) -> Any:
    """A JSON-safe, size-bounded copy of a value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _redacted(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "..."
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _redacted(field: str, value: Any) -> Any:
    if is_secret(field) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, dict) and "name" in value and "value" in value:
        return {**_plain(value), "value": REDACTED}  # HTTP headers: the name only
    return _plain(value)


def changes_of(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for each value that differs from the row's current one.

    Call it before applying `values` to `row`."""
    out: dict[str, list[Any]] = {}
    for field, after in values.items():
        before = getattr(row, field, None)
        if _plain(before) != _plain(after):
            out[field] = [_redacted(field, before), _redacted(field, after)]
    return out


def created(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields a new object starts with, as changes from nothing."""
    return {k: [None, _redacted(k, v)] for k, v in values.items() if v not in (None, "", [], {})}


def _actor_label(actor: Actor) -> str:
    if actor.via:
        return f"{actor.email or 'user ' + str(actor.user_id)} (API token '{actor.via}')"[:254]
    return actor.email or f"user {actor.user_id}"


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: Any,
    changes: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Write one entry; an update that changed nothing (`changes == {}`) writes none."""
    if changes is not None and not changes:
        return None
    safe = {str(k): _safe_pair(str(k), v) for k, v in (changes or {}).items()}
    entry = AuditEntry(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id or None,
        actor=_actor_label(actor),
        action=action[:60],
        target_type=target_type[:40],
        target_id=str(target_id if target_id is not None else "")[:64],
        changes=safe,
        ip=(actor.ip or "")[:64],
    )
    session.add(entry)
    session.flush()
    return entry


def _safe_pair(field: str, value: Any) -> Any:
    """Redact again at the door: a caller's raw `[before, after]` never stores a secret."""
    if isinstance(value, list) and len(value) == 2:
        return [_redacted(field, value[0]), _redacted(field, value[1])]
    return _redacted(field, value)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int


def list_entries(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """The workspace's entries, newest first; owners and admins only."""
    actor.require(Permission.MANAGE_SETTINGS)
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    rows = session.exec(
        scoped_select(actor, AuditEntry)
        .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    total = session.exec(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.workspace_id == actor.workspace_id)
    ).one()
    return AuditPage(list(rows), total, page, per_page)


def describe(changes: dict[str, Any]) -> str:
    """One line for people: `name: 'A' -> 'B'; role: agent -> admin`."""
    parts = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            before, after = value
            if before is None:
                parts.append(f"{field}: {_short(after)}")
            elif after is None:
                parts.append(f"{field}: {_short(before)} -> (removed)")
            else:
                parts.append(f"{field}: {_short(before)} -> {_short(after)}")
        else:
            parts.append(f"{field}: {_short(value)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
