"""A bot's export: one JSON file (transfer_format.py) to import it elsewhere (bot_import.py).

In it: every setting of the bot (audiences included) and its avatar picture; every source with
what it was made from (pasted text, Q&A pair, the uploaded file as base64, the URL or website and
its crawl settings) and the passages it was indexed as, so the import answers the same questions
with the same citations without fetching anything; the actions with their secrets blanked
(transfer_actions.py). Not in it: conversations, contacts, widget keys, the run log, usage, and
the workspace's LLM provider key. Owners and admins only: the file holds the whole knowledge.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from chatapp import __version__
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.actions import store
from chatapp.services.bots import providers, transfer_actions
from chatapp.services.bots.avatars import stored_avatar_path
from chatapp.services.bots.transfer_format import (
    FORMAT,
    VERSION,
    WEBSITE_SETTINGS,
    limit_bytes,
    too_large,
)
from chatapp.services.knowledge.sources import uploads_dir
from chatapp.services.models import Bot, BotCreate, KnowledgeChunk, Source, utcnow

PASSAGE_FIELDS = ("text", "title", "heading", "page", "url", "token_count")


@dataclass(frozen=True)
class BotExport:
    filename: str  # e.g. chatapp-bot-shop-helper-2026-12-01.json
    content: bytes
    contents: dict[str, int]
    to_fill_in: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        return len(self.content)


def export_bot(session: Session, actor: Actor, bot_id: int) -> BotExport:
    """The bot's file, or TooLarge when it would pass BOT_TRANSFER_MAX_MB."""
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    passages = _passages(session, actor, bot.id)
    left_out: list[str] = []
    sources = _sources(session, actor, bot.id, passages, left_out)
    actions, fill_in = [], []
    for action in store.list_actions(session, actor, bot.id):
        entry, blanks = transfer_actions.exportable(action)
        actions.append(entry)
        fill_in += blanks
    settings, avatar = _settings(bot)
    contents = {
        "sources": len(sources),
        "pages": sum(len(s.get("pages", [])) for s in sources),
        "passages": _count_passages(sources),
        "files": sum(1 for s in sources if s["kind"] == "file"),
        "actions": len(actions),
        "audiences": len(bot.audiences or []),
    }
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "app_version": __version__,
        "size_bytes": 0,  # the file's own size: filled in by _serialise
        "contents": contents,
        "provider": _provider(session, actor),
        "bot": settings,
        "avatar": avatar,
        "sources": sources,
        "actions": actions,
        "to_fill_in": fill_in,
        "left_out": left_out,
    }
    content = _serialise(document)
    if len(content) > limit_bytes():
        raise too_large(len(content))
    audit.record(
        session, actor, "bot.export", "bot", bot.public_id, {"size_bytes": [None, len(content)]}
    )
    return BotExport(
        filename=_filename(bot.name),
        content=content,
        contents=contents,
        to_fill_in=[f"{f['action']}: {f['field']}" for f in fill_in],
        left_out=left_out,
    )


def _serialise(document: dict[str, Any]) -> bytes:
    """The JSON text, stating its own size in bytes: written once with `"size_bytes": 0` (the
    first such text in the file: the key comes before any source), then the number put in."""
    data = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
    marker = b'"size_bytes": 0'
    at = data.index(marker)
    rest = len(data) - 1  # everything but the number
    size = rest + 1
    while rest + len(str(size)) != size:
        size = rest + len(str(size))
    return data[:at] + b'"size_bytes": ' + str(size).encode() + data[at + len(marker) :]


def _settings(bot: Bot) -> tuple[dict[str, Any], dict[str, str] | None]:
    """Every setting `BotCreate` takes, as the bot has it; a stored avatar travels as a picture."""
    settings = {name: getattr(bot, name) for name in BotCreate.model_fields}
    settings["audiences"] = list(bot.audiences or [])
    avatar = None
    stored = stored_avatar_path(bot.avatar_url)
    if stored is not None:
        settings["avatar_url"] = ""
        if stored.is_file():
            avatar = {"data_base64": base64.b64encode(stored.read_bytes()).decode("ascii")}
    return settings, avatar


def _provider(session: Session, actor: Actor) -> dict[str, str]:
    view = providers.get_provider(session, actor)
    return {"source": view.source, "base_url": view.base_url, "model": view.model}


def _passages(session: Session, actor: Actor, bot_id: int) -> dict[int, list[dict[str, Any]]]:
    """The bot's indexed passages by source, in order (their vectors stay: the embedder's)."""
    columns = [getattr(KnowledgeChunk, name) for name in PASSAGE_FIELDS]
    rows = session.exec(
        select(KnowledgeChunk.source_id, *columns)
        .where(KnowledgeChunk.workspace_id == actor.workspace_id, KnowledgeChunk.bot_id == bot_id)
        .order_by(col(KnowledgeChunk.source_id), col(KnowledgeChunk.position))
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for source_id, *values in rows:
        found[source_id].append(dict(zip(PASSAGE_FIELDS, values, strict=True)))
    return found


def _indexed(source: Source, passages: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "passages": passages.get(source.id, []),
        "char_count": source.char_count,
        "content_hash": source.content_hash,
    }


def _sources(
    session: Session,
    actor: Actor,
    bot_id: int,
    passages: dict[int, list[dict[str, Any]]],
    left_out: list[str],
) -> list[dict[str, Any]]:
    """The top-level sources in the order they were added, each website with its pages."""
    rows = list(
        session.exec(
            scoped_select(actor, Source).where(Source.bot_id == bot_id).order_by(col(Source.id))
        )
    )
    pages: dict[int, list[Source]] = defaultdict(list)
    for row in rows:
        if row.parent_id is not None:
            pages[row.parent_id].append(row)
    out = []
    for source in rows:
        if source.parent_id is None:
            entry = _source(source, passages, pages.get(source.id, []), left_out)
            if entry is not None:
                out.append(entry)
    return out


def _source(
    source: Source,
    passages: dict[int, list[dict[str, Any]]],
    pages: list[Source],
    left_out: list[str],
) -> dict[str, Any] | None:
    """One top-level source as the file holds it (None: left out, with the reason noted)."""
    meta = source.meta or {}
    entry: dict[str, Any] = {"kind": source.kind}
    if source.kind == "text":
        entry.update(title=source.title, text=meta.get("text", ""))
    elif source.kind == "qa":
        entry.update(question=meta.get("question", ""), answer=meta.get("answer", ""))
    elif source.kind == "file":
        data = _stored_file(meta.get("path", ""))
        if data is None:
            left_out.append(f"file '{meta.get('filename', source.title)}': its stored file is gone")
            return None
        encoded = base64.b64encode(data).decode("ascii")
        entry.update(title=source.title, filename=meta.get("filename", ""), data_base64=encoded)
    elif source.kind == "url":
        entry.update(title=source.title, url=source.url, size_bytes=source.size_bytes)
    elif source.kind == "website":
        settings = {k: meta[k] for k in WEBSITE_SETTINGS if k in meta}
        entry.update(title=source.title, url=source.url, settings=settings)
        entry["pages"] = [_page(page, passages) for page in pages]
        return entry
    else:
        left_out.append(f"source '{source.title}': unknown kind '{source.kind}'")
        return None
    return {**entry, **_indexed(source, passages)}


def _page(page: Source, passages: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    entry = {"title": page.title, "url": page.url, "size_bytes": page.size_bytes}
    return {**entry, **_indexed(page, passages)}


def _stored_file(path: str) -> bytes | None:
    """An uploaded file's bytes, read only from the uploads folder."""
    file = Path(path) if path else None
    if file is None or not file.is_file() or uploads_dir().resolve() not in file.resolve().parents:
        return None
    return file.read_bytes()


def _count_passages(sources: list[dict[str, Any]]) -> int:
    total = 0
    for source in sources:
        total += len(source.get("passages", []))
        total += sum(len(page["passages"]) for page in source.get("pages", []))
    return total


def _filename(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "bot"
    return f"chatapp-bot-{slug}-{utcnow().date().isoformat()}.json"
