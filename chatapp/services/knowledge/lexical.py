"""Keyword search over a bot's chunks, by the database's own full-text index.

SQLite: an FTS5 table over the chunks' title, heading and text (Porter stemming), kept by
triggers in the transaction that writes the chunks, ranked by FTS5's bm25(). PostgreSQL: a
generated tsvector column (English configuration) with a GIN index, ranked by ts_rank_cd. Both are
updated per row as sources change; nothing is rebuilt over a whole bot, and no process holds
keyword data in memory. The schema is in alembic/versions/0007.

The question becomes an OR of its words (stopwords and single letters dropped), as BM25 scores
documents for any of the query's terms. The cost of that query grows with the number of chunks
holding each word, so words are kept rarest first while their document counts fit a budget
(`POSTINGS_BUDGET`): on a small bot every word is kept; on a 100k-chunk bot the very common words
("value", "return") go, which carry little BM25 weight anyway, and the meaning of the question is
the dense ranking's part. Document counts come from FTS5's vocabulary table on SQLite and from
the planner's statistics (`pg_stats.most_common_elems`, kept by ANALYZE) on PostgreSQL.

FTS5's statistics span every bot of the install: a word rare in this bot but common elsewhere
weighs a little less; nothing of another bot is ever returned.
"""

from __future__ import annotations

import re
import threading
import time

import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from sqlalchemy import text
from sqlmodel import Session

MAX_TERMS = 32
POSTINGS_BUDGET = 6000  # chunks a query may touch (~8 ms on SQLite); the rarest word always kept
STATS_SECONDS = 60.0  # PostgreSQL: how long the planner's word statistics are reused
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# bm25s's English list, plus the question words and pronouns a visitor's question is made of.
_STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "done",
        "can",
        "could",
        "would",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "ours",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "its",
        "they",
        "them",
        "their",
        "am",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "about",
        "any",
        "some",
        "there",
        "here",
        "so",
        "than",
        "too",
        "very",
        "just",
        "also",
        "get",
        "got",
        "please",
        "tell",
    ]
)
_stemmer = Stemmer.Stemmer("porter")  # what FTS5's porter tokenizer stores
_stemmer_lock = threading.Lock()

# The bot's rows are found inside FTS5 (its `scope` column), ranked there (the scope weighs 0),
# and only the best are joined to their chunks, whose workspace is checked too.
_SQLITE = text(
    "SELECT k.id, best.rank FROM ("
    "SELECT rowid, bm25(chunk_fts, 0.0, 1.0, 1.0, 1.0) AS rank FROM chunk_fts "
    "WHERE chunk_fts MATCH :match ORDER BY rank LIMIT :limit"
    ") AS best JOIN knowledgechunk AS k ON k.rowid = best.rowid "
    "WHERE k.workspace_id = :workspace_id AND k.bot_id = :bot_id ORDER BY best.rank"
)
_POSTGRES = text(
    "SELECT k.id, ts_rank_cd(k.search_words, q.query) AS rank "
    "FROM knowledgechunk AS k, to_tsquery('simple', :match) AS q(query) "
    "WHERE k.search_words @@ q.query AND k.workspace_id = :workspace_id AND k.bot_id = :bot_id "
    "ORDER BY rank DESC LIMIT :limit"
)
_POSTGRES_LEXEMES = text(
    "SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', :query)) WHERE length(lexeme) > 1"
)
_POSTGRES_STATS = text(
    "SELECT e.lexeme, f.freq, greatest(c.reltuples, 0) "
    "FROM pg_stats AS s "
    "JOIN pg_class AS c ON c.relname = s.tablename "
    "CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[]) WITH ORDINALITY AS e(lexeme, n) "
    "JOIN LATERAL unnest(s.most_common_elem_freqs) WITH ORDINALITY AS f(freq, m) ON f.m = e.n "
    "WHERE s.tablename = 'knowledgechunk' AND s.attname = 'search_words'"
)


def query_terms(query: str) -> list[str]:
    """The question's searchable words: lower case, no stopwords, each once, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if len(word) > 1 and word not in _STOPWORDS and len(seen) < MAX_TERMS:
            seen.setdefault(word, None)
    return list(seen)


def within_budget(counts: dict[str, float], budget: float | None = None) -> list[str]:
    """The terms to search, rarest first while their document counts fit the budget."""
    budget = POSTINGS_BUDGET if budget is None else budget
    kept: list[str] = []
    spent = 0.0
    for term in sorted(counts, key=counts.__getitem__):
        if kept and spent + counts[term] > budget:
            break
        kept.append(term)
        spent += counts[term]
    return kept


def search(
    session: Session, *, workspace_id: int, bot_id: int, query: str, limit: int
) -> list[tuple[str, float]]:
    """(chunk id, score) of the bot's chunks that share words with `query`, best first; the
    score is positive and higher is better (its scale depends on the database)."""
    if limit <= 0:
        return []
    params = {"workspace_id": workspace_id, "bot_id": bot_id, "limit": limit}
    if session.get_bind().dialect.name == "sqlite":
        terms = _sqlite_terms(session, query_terms(query))
        if not terms:
            return []
        words = " OR ".join(f'"{term}"' for term in terms)
        match = f"scope:b{int(bot_id)} AND {{title heading text}}:({words})"
        rows = session.exec(_SQLITE, params={**params, "match": match}).all()
        return [(chunk_id, -float(rank)) for chunk_id, rank in rows]
    lexemes = _postgres_terms(session, query)
    if not lexemes:
        return []
    rows = session.exec(_POSTGRES, params={**params, "match": " | ".join(lexemes)}).all()
    return [(chunk_id, float(rank)) for chunk_id, rank in rows if rank > 0]


def _sqlite_terms(session: Session, words: list[str]) -> list[str]:
    """The words to search, by the number of chunks holding each (FTS5's vocabulary table)."""
    if not words:
        return []
    with _stemmer_lock:
        stems = _stemmer.stemWords(words)
    marks = ", ".join(f":t{n}" for n in range(len(stems)))
    found = dict(
        session.exec(
            text(f"SELECT term, doc FROM chunk_fts_terms WHERE term IN ({marks})"),
            params={f"t{n}": stem for n, stem in enumerate(stems)},
        ).all()
    )
    counts = {word: float(found.get(stem, 0)) for word, stem in zip(words, stems, strict=True)}
    return within_budget(counts)


class _PostgresStats:
    """The planner's most common lexemes of the chunks and their share, reused for a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, float]]] = {}

    def counts(self, session: Session) -> dict[str, float]:
        key = str(session.get_bind().url)
        with self._lock:
            entry = self._entries.get(key)
            if entry and time.monotonic() - entry[0] < STATS_SECONDS:
                return entry[1]
        counts = {
            lexeme: float(freq) * float(rows)
            for lexeme, freq, rows in session.exec(_POSTGRES_STATS).all()
        }
        with self._lock:
            self._entries[key] = (time.monotonic(), counts)
        return counts


_postgres_stats = _PostgresStats()


def _postgres_terms(session: Session, query: str) -> list[str]:
    """The question's lexemes (PostgreSQL's English stemming) to search, within the budget; a
    lexeme the statistics do not list is rare (they list the most common ones)."""
    words = " ".join(query_terms(query))
    if not words:
        return []
    lexemes = [row for row in session.exec(_POSTGRES_LEXEMES, params={"query": words}).scalars()]
    common = _postgres_stats.counts(session)
    return within_budget({lexeme: common.get(lexeme, 0.0) for lexeme in lexemes})
