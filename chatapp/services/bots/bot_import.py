"""Import a bot file (transfer_format.py) as a new bot of the actor's workspace.

Order, so that a bad file or a failure half-way leaves nothing behind:
1. everything is checked first, every problem listed at once: the file's shape, each uploaded
   file by its content (as an upload is), the avatar, each action (as the editor checks it), the
   bot's storage limit; a refusal writes nothing;
2. the passages are embedded (the slow part: no transaction is open for writing yet);
3. the bot, its sources with their passages and vectors, and its actions are written in the
   caller's transaction, through the services that make each of them where one exists
   (`create_bot`, `set_avatar`, `create_action`: the same checks and audit entries). Files written
   on the way are removed again if anything fails before the end.
The passages are the exporting bot's own, so the new bot retrieves the same text under the same
titles and cites it the same way; sources that came without passages (not trained when
exported) are queued and trained here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlmodel import Session

from chatapp.core.errors import ServiceError
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, require_current, scoped_select
from chatapp.services.bots import avatars, bots, providers, transfer_actions
from chatapp.services.bots.bot_import_plan import Planned, avatar_of, check_room, plan
from chatapp.services.bots.transfer_format import BotFile, BotFileInvalid, Passage, read_bot_file
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.codec import encode
from chatapp.services.knowledge.index.embedded import knowledge_changed
from chatapp.services.knowledge.index.vector_index import IndexPoint, get_index
from chatapp.services.knowledge.ingest import queue
from chatapp.services.knowledge.ingest.pipeline import EMBED_BATCH, chunk_id
from chatapp.services.knowledge.ingest.types import Chunk
from chatapp.services.knowledge.sources import uploads_dir
from chatapp.services.models import Bot, KnowledgeChunk, Source, SourceStatus, utcnow

MAX_NAME = 80


@dataclass(frozen=True)
class ImportResult:
    bot: Bot
    workspace_id: int
    sources: int
    pages: int
    passages: int
    actions: int
    queued: int  # sources without passages, trained after the import
    to_fill_in: list[str]  # "Action name: field (why)"
    notes: list[str]


def import_bot(session: Session, actor: Actor, raw: bytes) -> ImportResult:
    """The file as a new bot of the actor's workspace (owners and admins), or a refusal that
    lists every problem (BotFileInvalid, 422; TooLarge, 413) with nothing written."""
    require_current(session, actor, Permission.MANAGE_BOTS)
    bot_file = read_bot_file(raw)
    problems: list[str] = []
    avatar = avatar_of(bot_file, problems)
    planned = [plan(entry, n, problems) for n, entry in enumerate(bot_file.sources, start=1)]
    actions, action_problems = transfer_actions.prepare(bot_file.actions, bot_file.to_fill_in)
    problems += action_problems
    if not problems:
        check_room(planned, problems)
    if problems:
        raise BotFileInvalid(problems)
    vectors = _embed(planned)
    bot = _write(session, actor, bot_file, avatar, planned, vectors, actions)
    return _result(session, actor, bot, bot_file, planned, actions)


# --- writing ---------------------------------------------------------------------------------


def _embed(planned: list[Planned]) -> Iterator[np.ndarray]:
    """Every passage's vector, in the order `_add_source` writes them."""
    chunks = [_chunk(p, n) for item in planned for n, p in _numbered(item)]
    embedder = get_embedder()
    vectors: list[np.ndarray] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors += list(embedder.embed_documents([chunk.indexed_text for chunk in batch]))
    return iter(vectors)


def _numbered(item: Planned) -> Iterator[tuple[int, Passage]]:
    yield from enumerate(item.passages)
    for page in item.pages:
        yield from enumerate(page.passages)


def _chunk(passage: Passage, position: int) -> Chunk:
    return Chunk(
        text=passage.text,
        position=position,
        title=passage.title,
        heading=passage.heading,
        page=passage.page,
        token_count=passage.token_count,
    )


def _write(
    session: Session,
    actor: Actor,
    bot_file: BotFile,
    avatar: bytes | None,
    planned: list[Planned],
    vectors: Iterator[np.ndarray],
    actions: list[transfer_actions.Prepared],
) -> Bot:
    written: list[Path] = []
    rows: list[tuple[KnowledgeChunk, np.ndarray]] = []
    index = get_index(get_embedder().dim)
    bot: Bot | None = None
    try:
        name = _free_name(session, actor, bot_file.bot.name)
        bot = bots.create_bot(session, actor, bot_file.bot.model_copy(update={"name": name}))
        if avatar is not None:
            avatars.set_avatar(session, actor, bot.id, avatar)
            written += [p for p in [avatars.stored_avatar_path(bot.avatar_url)] if p is not None]
        for item in planned:
            rows += _add_source(session, bot, item, None, vectors, written)
        for action in actions:
            transfer_actions.create(session, actor, bot.id, action)
        knowledge_changed(session, bot.id)
        session.flush()
        if index.external and rows:
            points = [IndexPoint(r.id, vector, {"source_id": r.source_id}) for r, vector in rows]
            index.upsert(workspace_id=bot.workspace_id, bot_id=bot.id, points=points)
        made = audit.created(_counts(planned))
        audit.record(session, actor, "bot.import", "bot", bot.public_id, made)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if bot is not None and index.external:
            index.delete_bot(workspace_id=actor.workspace_id, bot_id=bot.id)
        raise
    return bot


def _free_name(session: Session, actor: Actor, wanted: str) -> str:
    """The file's name, or "Name (2)", "Name (3)"... when a bot of the workspace has it."""
    taken = {b.name.lower() for b in session.exec(scoped_select(actor, Bot))}
    if wanted.lower() not in taken:
        return wanted
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = wanted[: MAX_NAME - len(suffix)].rstrip() + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1


def _add_source(
    session: Session,
    bot: Bot,
    item: Planned,
    parent_id: int | None,
    vectors: Iterator[np.ndarray],
    written: list[Path],
) -> list[tuple[KnowledgeChunk, np.ndarray]]:
    """The source's row (ready with its passages, else queued), its file and its chunk rows."""
    meta = dict(item.meta)
    if item.file_data is not None:
        folder = uploads_dir() / str(bot.workspace_id) / str(bot.id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{secrets.token_hex(8)}-{meta['filename']}"
        written.append(path)
        path.write_bytes(item.file_data)
        meta["path"] = str(path)
    now = utcnow() if item.trained else None
    source = Source(
        workspace_id=bot.workspace_id,
        bot_id=bot.id,
        parent_id=parent_id,
        kind=item.kind,
        title=item.title,
        url=item.url,
        status=SourceStatus.READY if item.trained else SourceStatus.QUEUED,
        progress=1.0 if item.trained else 0.0,
        size_bytes=item.size_bytes,
        char_count=item.char_count if item.trained else 0,
        chunk_count=sum(1 for _ in item.all_passages()),
        content_hash=item.content_hash,
        meta=meta,
        trained_at=now,
    )
    session.add(source)
    session.flush()
    rows = [_chunk_row(source, n, p, next(vectors)) for n, p in enumerate(item.passages)]
    session.add_all(row for row, _vector in rows)
    for page in item.pages:
        rows += _add_source(session, bot, page, source.id, vectors, written)
    return rows


def _chunk_row(
    source: Source, position: int, passage: Passage, vector: np.ndarray
) -> tuple[KnowledgeChunk, np.ndarray]:
    chunk = _chunk(passage, position)
    row = KnowledgeChunk(
        id=chunk_id(source.id, chunk),
        workspace_id=source.workspace_id,
        bot_id=source.bot_id,
        source_id=source.id,
        position=position,
        text=passage.text,
        title=passage.title,
        heading=passage.heading,
        page=passage.page,
        url=passage.url,
        token_count=passage.token_count,
        vector=encode(vector),
    )
    return row, vector


def _counts(planned: list[Planned]) -> dict[str, int]:
    return {
        "sources": len(planned),
        "pages": sum(len(item.pages) for item in planned),
        "passages": sum(1 for item in planned for _ in item.all_passages()),
    }


def _result(
    session: Session,
    actor: Actor,
    bot: Bot,
    bot_file: BotFile,
    planned: list[Planned],
    actions: list[transfer_actions.Prepared],
) -> ImportResult:
    queued = sum(1 for item in planned if not item.trained)
    if queued:
        queue.notify()
    return ImportResult(
        bot=bot,
        workspace_id=actor.workspace_id,
        actions=len(actions),
        queued=queued,
        to_fill_in=[f"{a.name}: {item}" for a in actions for item in a.to_fill_in],
        notes=_notes(session, actor, bot_file, queued),
        **_counts(planned),
    )


def _notes(session: Session, actor: Actor, bot_file: BotFile, queued: int) -> list[str]:
    notes = [f"Left out when exported: {item}." for item in bot_file.left_out]
    if queued:
        notes.append(
            f"{queued} source{'s' if queued > 1 else ''} came without indexed passages and "
            "are being trained now (web addresses are fetched again)."
        )
    exported = bot_file.provider.source if bot_file.provider else ""
    here = _provider_source(session, actor)
    if exported and here and exported != here:
        notes.append(
            f"Answers came from the {exported} provider where the bot was exported; here they "
            f"come from the {here} one (Settings > Workspace)."
        )
    return notes


def _provider_source(session: Session, actor: Actor) -> str:
    try:
        return providers.get_provider(session, actor).source
    except ServiceError:
        return ""
