"""How many of a bot's chunks hold each term, for answerability's rarity weights.

A word in every chunk ("bike" for a bike shop, "valgrind" in Valgrind's manual) says nothing
about whether a passage answers; a rare one says much. The counts are per bot and follow its
`knowledge_version` (one primary-key read per question). A bot of up to `EXACT_CHUNKS` chunks is
counted whole, at once, whenever it changed (exact, and cheap at that size). A bigger bot is
counted on a random sample of that many chunks (the counts scaled to the bot), and when it
changes the question is judged with the counts it had while new ones are made in a thread: a
weight that is a few minutes old hardly moves, and a visitor never waits seconds for a recount.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.core.db import session_scope
from chatapp.services.chat.compose.unit_scoring import content_terms
from chatapp.services.models import Bot, KnowledgeChunk, Source

log = logging.getLogger(__name__)

EXACT_CHUNKS = 20_000
CACHED_BOTS = 32
FETCH_BATCH = 1000


@dataclass(frozen=True)
class TermStats:
    """A bot's chunk count and the number of its chunks holding each term."""

    docs: int
    df: dict[str, int]

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.docs - df + 0.5) / (df + 0.5))  # BM25's idf, always > 0


def count_terms(session: Session, workspace_id: int, bot_id: int) -> TermStats:
    """The bot's term counts: every chunk, or a random sample of EXACT_CHUNKS scaled up."""
    scope = (KnowledgeChunk.workspace_id == workspace_id, KnowledgeChunk.bot_id == bot_id)
    total = int(session.exec(select(func.count()).where(*scope)).one())
    ids_query = select(KnowledgeChunk.id).where(*scope)
    if total > EXACT_CHUNKS:
        ids_query = ids_query.order_by(func.random()).limit(EXACT_CHUNKS)
    ids = list(session.exec(ids_query).all())
    df: dict[str, int] = {}
    for start in range(0, len(ids), FETCH_BATCH):
        rows = session.exec(
            select(KnowledgeChunk.title, KnowledgeChunk.heading, KnowledgeChunk.text).where(
                col(KnowledgeChunk.id).in_(ids[start : start + FETCH_BATCH])
            )
        ).all()
        for title, heading, text in rows:
            for term in content_terms(f"{title} {heading}\n{text}"):
                df[term] = df.get(term, 0) + 1
    if len(ids) < total and ids:
        scale = total / len(ids)
        df = {term: round(count * scale) for term, count in df.items()}
    return TermStats(total, df)


class BotTerms:
    """Per-bot `TermStats`, by knowledge version; big bots recounted in a thread."""

    def __init__(self, capacity: int = CACHED_BOTS):
        self.capacity = capacity
        self._stats: OrderedDict[tuple, tuple[int, TermStats]] = OrderedDict()
        self._owners: dict[tuple, tuple[int, int]] = {}  # (db, source id) -> (workspace, bot)
        self._recounting: dict[tuple, threading.Thread] = {}
        self._lock = threading.Lock()

    def for_passages(self, passages: Sequence) -> TermStats | None:
        """The statistics of the bot the passages come from (None if it cannot be told)."""
        if not passages:
            return None
        with session_scope() as session:
            db = str(session.get_bind().url)
            owner = self._owners.get((db, passages[0].source_id))
            if owner is None:
                row = session.exec(
                    select(Source.workspace_id, Source.bot_id).where(
                        Source.id == passages[0].source_id
                    )
                ).first()
                if row is None:
                    return None
                owner = self._owners[(db, passages[0].source_id)] = (row[0], row[1])
            workspace_id, bot_id = owner
            version = session.exec(
                select(Bot.knowledge_version).where(
                    Bot.id == bot_id, Bot.workspace_id == workspace_id
                )
            ).first()
            if version is None:
                return None
            key = (db, workspace_id, bot_id)
            with self._lock:
                entry = self._stats.get(key)
                if entry is not None:
                    self._stats.move_to_end(key)
            if entry is not None and entry[0] == version:
                return entry[1]
            if entry is not None and entry[1].docs > EXACT_CHUNKS:
                self._recount_later(session.get_bind(), key, version)
                return entry[1]
            stats = count_terms(session, workspace_id, bot_id)
        self._store(key, version, stats)
        return stats

    def _store(self, key: tuple, version: int, stats: TermStats) -> None:
        with self._lock:
            self._stats[key] = (version, stats)
            self._stats.move_to_end(key)
            while len(self._stats) > self.capacity:
                self._stats.popitem(last=False)

    def _recount_later(self, engine, key: tuple, version: int) -> None:
        with self._lock:
            if key in self._recounting:
                return
            thread = threading.Thread(
                target=self._recount, args=(engine, key, version), daemon=True
            )
            self._recounting[key] = thread
        thread.start()

    def wait_for_recounts(self, timeout: float = 60.0) -> None:
        """Until the recounts started so far end (tests, shutdown)."""
        with self._lock:
            threads = list(self._recounting.values())
        for thread in threads:
            thread.join(timeout)

    def _recount(self, engine, key: tuple, version: int) -> None:
        _db, workspace_id, bot_id = key
        try:
            with session_scope(engine) as session:
                stats = count_terms(session, workspace_id, bot_id)
            self._store(key, version, stats)
        except Exception:  # the old counts keep serving; the next change tries again
            log.exception("recounting the terms of bot %s failed", bot_id)
        finally:
            with self._lock:
                self._recounting.pop(key, None)


bot_terms = BotTerms()
