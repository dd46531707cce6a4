"""Keyword search over a bot's chunks, by the database's own full-text index.

SQLite: an FTS5 table over the chunks' title, heading and text (Porter stemming), kept by
triggers in the transaction that writes the chunks, ranked by FTS5's bm25(). PostgreSQL: a
generated tsvector column (English configuration) with a GIN index, ranked by ts_rank_cd. Both are
updated per row as sources change; nothing is rebuilt over a whole bot, and no process holds
keyword data in memory. The schema is in alembic/versions/0007.

The question becomes an OR of its words (stopwords dropped), as BM25 scores documents for any of
the query's terms. FTS5's statistics (document frequencies) span every bot of the install: a word
rare in this bot but common elsewhere weighs a little less; the ranking of one bot's chunks among
themselves changes little, and nothing of another bot is ever returned.
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN
from sqlalchemy import text
from sqlmodel import Session

MAX_TERMS = 32
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN)

_SQLITE = text(
    "SELECT k.id, bm25(chunk_fts) AS rank FROM chunk_fts "
    "JOIN knowledgechunk AS k ON k.rowid = chunk_fts.rowid "
    "WHERE chunk_fts MATCH :match AND k.workspace_id = :workspace_id AND k.bot_id = :bot_id "
    "ORDER BY rank LIMIT :limit"
)
_POSTGRES = text(
    "SELECT k.id, ts_rank_cd(k.search_words, q.query) AS rank "
    "FROM knowledgechunk AS k, to_tsquery('english', :match) AS q(query) "
    "WHERE k.search_words @@ q.query AND k.workspace_id = :workspace_id AND k.bot_id = :bot_id "
    "ORDER BY rank DESC LIMIT :limit"
)


def query_terms(query: str) -> list[str]:
    """The question's searchable words: lower case, no stopwords, each once, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in _STOPWORDS and len(seen) < MAX_TERMS:
            seen.setdefault(word, None)
    return list(seen)


def search(
    session: Session, *, workspace_id: int, bot_id: int, query: str, limit: int
) -> list[tuple[str, float]]:
    """(chunk id, score) of the bot's chunks that share words with `query`, best first; the
    score is positive and higher is better (its scale depends on the database)."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    params = {"workspace_id": workspace_id, "bot_id": bot_id, "limit": limit}
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(f'"{term}"' for term in terms)
        rows = session.exec(_SQLITE, params={**params, "match": match}).all()
        return [(chunk_id, -float(rank)) for chunk_id, rank in rows]
    rows = session.exec(_POSTGRES, params={**params, "match": " | ".join(terms)}).all()
    return [(chunk_id, float(rank)) for chunk_id, rank in rows if rank > 0]
