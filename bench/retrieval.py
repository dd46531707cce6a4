"""Retrieval benchmark on Python's own HTML documentation (Debian's python3.11-doc).

Questions are the FAQ pages' question headings; the gold answer is the section under each one.
All documentation pages (~530) are indexed through the real ingestion pipeline (add_file -> worker)
as one bot, with a second bot's documents (valgrind's HTML manual) in the same store as distractors.
Variant A indexes the pages as they are; variant B removes the FAQ question headings from the
indexed pages, so a question must match the answer itself. A retrieved passage answers a question
when it comes from the question's FAQ page and either at least half of it is the gold answer
("strict", the passage is about this answer) or it holds at least half of the gold answer (it
carries the answer, even if merged with a neighbouring one: without the headings, variant B's
short answers run together into one chunk). The headline figures use the second, fuller rule; the
strict figures are reported beside them. Also measured: Q&A pairs for the same
questions, query latency, ingestion speed, and how long a 10,000-word page takes to be searchable.

Usage: .venv/bin/python bench/retrieval.py [--variants A,B] [--max-pages N] [--postgres]
Prints one JSON object. Needs: apt-get install -y python3.11-doc (and valgrind for distractors).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.retrieval_data import (  # noqa: E402
    DISTRACTORS,
    DOCS,
    Question,
    corpus,
    load_questions,
    shingles,
    without_faq_questions,
    words,
)

TARGETS = {"A_recall@3": 0.97, "B_recall@3": 0.60, "query_p95_ms": 50.0, "10k_word_page_s": 3.0}


def run_variant(
    variant: str, questions: list[Question], max_pages: int | None, database_url: str | None = None
) -> dict:
    """Fresh data directory (and database), ingest everything, evaluate; this variant's figures."""
    from sqlmodel import select

    from chatapp.core import migrations
    from chatapp.core.config import reset_settings
    from chatapp.core.db import dispose_engines, session_scope
    from chatapp.services.knowledge import sources
    from chatapp.services.knowledge.index.vector_index import close_indexes
    from chatapp.services.knowledge.retrieval import retrieve
    from chatapp.services.models import Source
    from chatapp.workers import ingest as worker
    from tests.utils.factories import make_tenant

    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{variant}-"))
    os.environ.update(
        DATA_DIR=str(data_dir),
        MAX_UPLOAD_MB="50",
        BOT_STORAGE_LIMIT_MB="500",
        INGEST_WORKER="false",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_ROUNDS="1",
    )
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    reset_settings()
    dispose_engines()
    close_indexes()
    migrations.upgrade()
    with session_scope() as session:
        docs_bot = make_tenant(session, f"docs{variant}")
        other = make_tenant(session, f"other{variant}")

    page_sources: dict[str, int] = {}
    started = time.perf_counter()
    with session_scope() as session:
        for path in corpus(DOCS, max_pages):
            html = path.read_text(encoding="utf-8", errors="replace")
            relative = str(path.relative_to(DOCS))
            if variant == "B" and relative.startswith("faq/"):
                html = without_faq_questions(html)
            source = sources.add_file(
                session,
                docs_bot.owner,
                docs_bot.bot.id,
                filename=path.name,
                data=html.encode("utf-8"),
            )
            page_sources[relative] = source.id
        if DISTRACTORS.exists():
            for path in corpus(DISTRACTORS, max_pages):
                sources.add_file(
                    session, other.owner, other.bot.id, filename=path.name, data=path.read_bytes()
                )
    worker.run_until_idle()
    ingest_seconds = time.perf_counter() - started
    with session_scope() as session:
        rows = session.exec(select(Source)).all()
        chunks = sum(r.chunk_count for r in rows)
        errors = [(r.title, r.error) for r in rows if r.status != "ready"]

    ranks, strict_ranks, latencies = [], [], []
    with session_scope() as session:
        for question in questions:
            t0 = time.perf_counter()
            result = retrieve(
                session,
                workspace_id=docs_bot.workspace.id,
                bot_id=docs_bot.bot.id,
                query=question.text,
                limit=10,
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            gold = shingles(question.gold)
            rank = strict_rank = None
            for position, passage in enumerate(result.passages, start=1):
                if passage.source_id != page_sources.get(question.page):
                    continue
                mine = shingles(passage.text)
                shared = len(mine & gold)
                is_gold = bool(mine) and shared / len(mine) >= 0.5
                if strict_rank is None and is_gold:
                    strict_rank = position
                if rank is None and (is_gold or shared / max(1, len(gold)) >= 0.5):
                    rank = position
            ranks.append(rank)
            strict_ranks.append(strict_rank)
    return {
        **recall_figures(ranks),
        "strict": recall_figures(strict_ranks),
        "query_ms_breakdown_p50": query_breakdown(docs_bot, questions),
        "query_ms_p50": round(statistics.median(latencies), 1),
        "query_ms_p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 1),
        "pages": len(page_sources),
        "chunks_all_bots": chunks,
        "ingest_seconds": round(ingest_seconds, 1),
        "chunks_per_second": round(chunks / ingest_seconds, 1),
        "ingest_errors": len(errors),
        "data_dir": str(data_dir),
        "_tenant": docs_bot,
    }


def query_breakdown(tenant, questions: list[Question]) -> dict:
    """Median milliseconds of each stage of `retrieve`, timed separately on the same questions."""
    from chatapp.core.db import session_scope
    from chatapp.services.knowledge import lexical
    from chatapp.services.knowledge.embeddings import get_embedder
    from chatapp.services.knowledge.index.vector_index import get_index

    embedder = get_embedder()
    index = get_index(embedder.dim)
    ids = {"workspace_id": tenant.workspace.id, "bot_id": tenant.bot.id}
    stages: dict[str, list[float]] = {"embed": [], "dense": [], "lexical": []}
    with session_scope() as session:
        for question in questions:
            t0 = time.perf_counter()
            vector = embedder.embed_documents([question.text])[0]  # not the query cache
            t1 = time.perf_counter()
            index.search(**ids, vector=vector, limit=30)
            t2 = time.perf_counter()
            lexical.search(session, **ids, query=question.text, limit=30)
            t3 = time.perf_counter()
            stages["embed"].append((t1 - t0) * 1000)
            stages["dense"].append((t2 - t1) * 1000)
            stages["lexical"].append((t3 - t2) * 1000)
    return {name: round(statistics.median(values), 1) for name, values in stages.items()}


def recall_figures(ranks: list[int | None]) -> dict:
    n = len(ranks)

    def recall(k: int) -> float:
        return round(sum(1 for r in ranks if r is not None and r <= k) / n, 3)

    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return {
        "recall@1": recall(1),
        "recall@3": recall(3),
        "recall@10": recall(10),
        "mrr@10": round(mrr, 3),
        "questions": n,
    }


def qa_pairs_recall(tenant, questions: list[Question]) -> dict:
    from chatapp.core.db import session_scope
    from chatapp.services.knowledge import sources
    from chatapp.services.knowledge.retrieval import retrieve
    from chatapp.workers import ingest as worker

    ids = []
    with session_scope() as session:
        for question in questions:
            ids.append(
                sources.add_qa(
                    session,
                    tenant.owner,
                    tenant.bot.id,
                    question=question.text,
                    answer=question.gold[:10_000],
                ).id
            )
    worker.run_until_idle()
    ranks = []
    with session_scope() as session:
        for question, source_id in zip(questions, ids, strict=True):
            result = retrieve(
                session,
                workspace_id=tenant.workspace.id,
                bot_id=tenant.bot.id,
                query=question.text,
                limit=10,
            )
            hits = [i for i, p in enumerate(result.passages, 1) if p.source_id == source_id]
            ranks.append(hits[0] if hits else None)
    return recall_figures(ranks)


def ten_thousand_word_page(tenant) -> dict:
    """Seconds from submitting a 10,000-word page to it being searchable (worker in process),
    including the rebuild of the bot's BM25 index on the first search after the change."""
    from chatapp.core.db import session_scope
    from chatapp.services.knowledge import sources
    from chatapp.services.knowledge.retrieval import retrieve
    from chatapp.workers import ingest as worker

    text = " ".join(words((DOCS / "library" / "stdtypes.html").read_text())[:9_990])
    marker = f"zebra{os.urandom(4).hex()}"  # unique per run: a re-run must find its own page
    text = f"Zebra-striped {marker} marker sentence about the benchmark page. " + text
    started = time.perf_counter()
    with session_scope() as session:
        source = sources.add_file(
            session, tenant.owner, tenant.bot.id, filename="big.txt", data=text.encode()
        )
    worker.run_until_idle()
    with session_scope() as session:
        found = retrieve(
            session,
            workspace_id=tenant.workspace.id,
            bot_id=tenant.bot.id,
            query=f"zebra-striped {marker} marker sentence benchmark page",
            limit=3,
        )
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "words": len(text.split()),
        "found": bool(found.passages) and found.passages[0].source_id == source.id,
    }


def timings_only(data_dir: Path, variant: str, questions: list[Question]) -> dict:
    """Query latency (cold query embeddings) and the 10k-word page on an already ingested data
    directory of an earlier run: the timings again on a quiet machine, without re-ingesting."""
    from sqlmodel import select

    from chatapp.core import migrations
    from chatapp.core.config import reset_settings
    from chatapp.core.db import session_scope
    from chatapp.services.accounts.tenancy import actor_for
    from chatapp.services.knowledge.retrieval import retrieve
    from chatapp.services.models import Bot, Membership, Workspace
    from tests.utils.factories import Tenant

    os.environ.update(DATA_DIR=str(data_dir), INGEST_WORKER="false", BOT_STORAGE_LIMIT_MB="500")
    os.environ.pop("DATABASE_URL", None)
    reset_settings()
    migrations.upgrade()  # a directory from an older checkout
    with session_scope() as session:
        workspace = session.exec(
            select(Workspace).where(Workspace.name == f"Workspace docs{variant}")
        ).one()
        bot = session.exec(select(Bot).where(Bot.workspace_id == workspace.id)).one()
        owner_id = session.exec(
            select(Membership.user_id).where(
                Membership.workspace_id == workspace.id, Membership.role == "owner"
            )
        ).first()
        owner = actor_for(session, user_id=owner_id, workspace_id=workspace.id)
        tenant = Tenant(workspace, owner, owner, owner, owner, bot)
        session.expunge_all()
    ids = {"workspace_id": workspace.id, "bot_id": bot.id}
    latencies = []
    with session_scope() as session:
        retrieve(session, **ids, query="warm up the caches", limit=10)
        for question in questions:
            t0 = time.perf_counter()
            retrieve(session, **ids, query=question.text, limit=10)
            latencies.append((time.perf_counter() - t0) * 1000)
    return {
        "query_ms_p50": round(statistics.median(latencies), 1),
        "query_ms_p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 1),
        "query_ms_breakdown_p50": query_breakdown(tenant, questions),
        "10k_word_page": ten_thousand_word_page(tenant),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="A,B")
    parser.add_argument("--max-pages", type=int, default=None)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="each variant in a fresh PostgreSQL database (its tsvector ranker) instead of SQLite",
    )
    parser.add_argument(
        "--timings-from",
        metavar="VARIANT=DATA_DIR",
        help="only re-time queries and the 10k-word page on an earlier run's data directory",
    )
    args = parser.parse_args()
    if not DOCS.exists():
        sys.exit("apt-get install -y python3.11-doc first")
    from chatapp.services.knowledge.embeddings import get_embedder

    questions = load_questions()
    if args.timings_from:
        variant, data_dir = args.timings_from.split("=", 1)
        figures = timings_only(Path(data_dir), variant, questions)
        from chatapp.services.knowledge.index.vector_index import close_indexes

        close_indexes()
        print(json.dumps({variant: figures}, indent=2))
        return
    report: dict = {
        "corpus": str(DOCS),
        "distractors": str(DISTRACTORS) if DISTRACTORS.exists() else None,
        "embedder": get_embedder().name,
        "targets": TARGETS,
    }
    tenant = None
    report["database"] = "postgresql" if args.postgres else "sqlite"
    with contextlib.ExitStack() as stack:
        for variant in args.variants.split(","):
            url = None
            if args.postgres:
                from tests.utils.databases import postgres_database

                url = stack.enter_context(postgres_database())
            figures = run_variant(variant, questions, args.max_pages, url)
            tenant = figures.pop("_tenant")
            report[variant] = figures
        if tenant is not None:
            report["qa_pairs"] = qa_pairs_recall(tenant, questions)
            report["10k_word_page"] = ten_thousand_word_page(tenant)
    from chatapp.services.knowledge.index.vector_index import close_indexes

    close_indexes()  # local Qdrant's own close at interpreter exit fails noisily
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
