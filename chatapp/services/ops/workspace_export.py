"""A download of everything a workspace owns, for its managers: one zip of JSON files.

Why: a business must be able to leave with its data (or keep a copy) without asking the operator.
The archive holds the bots' settings, the sources (metadata, pasted texts and Q&A pairs), the
indexed passages, every conversation with its messages, and the contacts. It never holds a secret:
no widget-key or API-token hashes, no password hashes, no provider key (encrypted or not), and no
action configurations (they may carry an API's credentials). Built in a temporary file, streamed
row by row from the database, so a big workspace does not sit in memory twice.

Files: `manifest.json`, `workspace.json`, `bots.json`, `sources.json`, `qa_pairs.json`,
`chunks.jsonl`, `conversations.jsonl` (one conversation with its messages per line),
`contacts.json`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, col

from chatapp import __version__
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import Actor, Permission, current_workspace, scoped_select
from chatapp.services.models import (
    Bot,
    Contact,
    Conversation,
    KnowledgeChunk,
    Message,
    Source,
    utcnow,
)

FORMAT_VERSION = 1
BATCH = 500
# Fields of source metadata that describe the server, not the knowledge.
PRIVATE_SOURCE_META = {"path"}


@dataclass(frozen=True)
class Backup:
    path: Path  # a temporary file: the caller deletes it once sent
    filename: str  # what to save it as, e.g. chatapp-backup-acme-2026-12-01.zip
    counts: dict[str, int]


def _row(model: SQLModel, exclude: set[str] | None = None) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude=exclude or set())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _stream(session: Session, statement) -> Iterable:
    return session.exec(statement.execution_options(yield_per=BATCH))


def _source_row(source: Source) -> dict[str, Any]:
    row = _row(source, exclude={"meta", "heartbeat_at", "attempts"})
    row["meta"] = {k: v for k, v in source.meta.items() if k not in PRIVATE_SOURCE_META}
    return row


def _workspace_part(session: Session, actor: Actor) -> dict[str, Any]:
    workspace = current_workspace(session, actor)
    members = workspaces.list_members(session, actor)
    return {
        "id": workspace.id,
        "name": workspace.name,
        "slug": workspace.slug,
        "plan": workspace.plan,
        "default_message_limit": workspace.default_message_limit,
        "llm_provider": {
            "base_url": workspace.llm_base_url,
            "model": workspace.llm_model,
            "api_key": "(not included)" if workspace.llm_api_key_encrypted else "",
        },
        "members": [
            {"email": m.email, "name": m.name, "role": m.role, "joined_at": m.joined_at.isoformat()}
            for m in members
        ],
        "created_at": workspace.created_at.isoformat(),
    }


def _write_conversations(session: Session, actor: Actor, archive: zipfile.ZipFile) -> int:
    conversations = {
        c.id: _row(c)
        for c in _stream(session, scoped_select(actor, Conversation).order_by(col(Conversation.id)))
    }
    total = len(conversations)
    messages = _stream(
        session,
        scoped_select(actor, Message).order_by(col(Message.conversation_id), col(Message.id)),
    )
    with archive.open("conversations.jsonl", "w") as out:
        for conversation_id, group in itertools.groupby(messages, key=lambda m: m.conversation_id):
            conversation = conversations.pop(conversation_id, None)
            if conversation is None:
                continue
            conversation["messages"] = [_row(m, exclude={"workspace_id"}) for m in group]
            out.write((json.dumps(conversation, ensure_ascii=False) + "\n").encode())
        for conversation in conversations.values():  # those without messages
            conversation["messages"] = []
            out.write((json.dumps(conversation, ensure_ascii=False) + "\n").encode())
    return total


def _write_chunks(session: Session, actor: Actor, archive: zipfile.ZipFile) -> int:
    count = 0
    statement = scoped_select(actor, KnowledgeChunk).order_by(
        col(KnowledgeChunk.source_id), col(KnowledgeChunk.position)
    )
    with archive.open("chunks.jsonl", "w") as out:
        for chunk in _stream(session, statement):
            # The vector is the embedder's, not the owner's data: a restore embeds again.
            row = _row(chunk, exclude={"vector"})
            out.write((json.dumps(row, ensure_ascii=False) + "\n").encode())
            count += 1
    return count


def _filename(slug: str) -> str:
    safe = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-") or "workspace"
    return f"chatapp-backup-{safe}-{utcnow().date().isoformat()}.zip"


def build_backup(session: Session, actor: Actor) -> Backup:
    """Write the workspace's backup zip to a temporary file (managers only)."""
    actor.require(Permission.MANAGE_SETTINGS)
    workspace = _workspace_part(session, actor)
    handle, name = tempfile.mkstemp(prefix="chatapp-backup-", suffix=".zip")
    os.close(handle)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            bots = [_row(b) for b in session.exec(scoped_select(actor, Bot).order_by(col(Bot.id)))]
            sources = list(session.exec(scoped_select(actor, Source).order_by(col(Source.id))))
            qa_pairs = [
                {
                    "bot_id": s.bot_id,
                    "source_id": s.id,
                    "question": s.meta.get("question", ""),
                    "answer": s.meta.get("answer", ""),
                }
                for s in sources
                if s.kind == "qa"
            ]
            contacts = [
                _row(c)
                for c in session.exec(scoped_select(actor, Contact).order_by(col(Contact.id)))
            ]
            archive.writestr("workspace.json", _json(workspace))
            archive.writestr("bots.json", _json(bots))
            archive.writestr("sources.json", _json([_source_row(s) for s in sources]))
            archive.writestr("qa_pairs.json", _json(qa_pairs))
            archive.writestr("contacts.json", _json(contacts))
            counts = {
                "bots": len(bots),
                "sources": len(sources),
                "qa_pairs": len(qa_pairs),
                "contacts": len(contacts),
                "chunks": _write_chunks(session, actor, archive),
                "conversations": _write_conversations(session, actor, archive),
            }
            manifest = {
                "format": "chatapp-workspace-backup",
                "version": FORMAT_VERSION,
                "app_version": __version__,
                "created_at": utcnow().isoformat(),
                "workspace": {"id": workspace["id"], "name": workspace["name"]},
                "counts": counts,
                "secrets": "none: keys, password hashes and action settings are not included",
            }
            archive.writestr("manifest.json", _json(manifest))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Backup(path, _filename(workspace["slug"]), counts)
