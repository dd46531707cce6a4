"""A 100k-chunk bot on the embedded default (issue 16), on SQLite and on PostgreSQL.

The bot's chunks are paragraphs of Python's HTML documentation (Debian's python3.11-doc), cycled
to the size asked for, stored as ingestion stores them (one row per chunk with its float16 vector,
the full-text index kept by the database) but with random unit vectors: embedding 100k chunks with
the local model takes ~20 minutes here and measures the embedder, not the store (its speed is
measured beside, on 512 chunks). Then a fresh process (a restarted worker) is timed:

* first query after a start: the embedder loaded and warmed on another bot first (reported
  apart), then the first question to the big bot (loads its index from the database);
* memory for that bot: the process's RSS before and after that first question;
* query p50/p95 of `retrieval.retrieve` (embedding, dense, full-text, rows) over 200 questions
  whose embeddings are not cached, and the median of each stage;
* a 10,000-word page searchable: this process uploads and ingests it (the worker's job), the
  other process then answers a question only that page answers; seconds from upload to found.

Usage: .venv/bin/python bench/big_bot.py [--chunks 100000] [--databases sqlite,postgres]
Prints one JSON object. Needs: apt-get install -y python3.11-doc.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCS = Path("/usr/share/doc/python3.11/html/library")
SOURCES = 200
TARGETS = {
    "query_p95_ms": 30.0,
    "bot_memory_mb": 250.0,
    "first_query_s": 2.0,
    "10k_word_page_s": 3.0,
}


def paragraphs(limit: int) -> list[tuple[str, str]]:
    """(page title, paragraph) pairs of ~40-150 words from the library reference."""
    from bs4 import BeautifulSoup

    found: list[tuple[str, str]] = []
    for page in sorted(DOCS.glob("*.html")):
        soup = BeautifulSoup(page.read_text(errors="replace"), "html.parser")
        title = soup.title.get_text(" ", strip=True) if soup.title else page.stem
        for p in soup.find_all(["p", "dd"]):
            text = " ".join(p.get_text(" ", strip=True).split())
            if 40 <= len(text.split()) <= 150:
                found.append((title[:200], text))
        if len(found) >= limit:
            break
    return found


def build(url: str, chunks: int, data_dir: Path) -> dict:
    """A tenant, SOURCES ready sources and `chunks` chunk rows: figures of the store's writes."""
    from sqlalchemy import insert

    from chatapp.core import migrations
    from chatapp.core.config import reset_settings
    from chatapp.core.db import dispose_engines, get_engine, session_scope
    from chatapp.services.knowledge.index.codec import encode
    from chatapp.services.knowledge.index.embedded import knowledge_changed
    from chatapp.services.models import KnowledgeChunk, Source
    from tests.utils.factories import make_tenant

    os.environ.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=url,
        INGEST_WORKER="false",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_ROUNDS="1",
        BOT_STORAGE_LIMIT_MB="100000",
        MAX_TEXT_CHARS="200000",
    )
    reset_settings()
    dispose_engines()
    migrations.upgrade(url)
    with session_scope() as session:
        big = make_tenant(session, "big")
        small = make_tenant(session, "small")
        ids = {"workspace": big.workspace.id, "bot": big.bot.id, "owner_user": big.owner.user_id}
        ids["small_workspace"], ids["small_bot"] = small.workspace.id, small.bot.id
        source_ids = []
        for n in range(SOURCES):
            source = Source(
                workspace_id=big.workspace.id,
                bot_id=big.bot.id,
                kind="text",
                title=f"Reference part {n}",
                status="ready",
                progress=1.0,
            )
            session.add(source)
            session.flush()
            source_ids.append(source.id)
    texts = paragraphs(chunks)
    rng = np.random.default_rng(7)
    dim = 384
    started = time.perf_counter()
    batch = 2000
    engine = get_engine(url)
    for start in range(0, chunks, batch):
        vectors = rng.normal(size=(min(batch, chunks - start), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = []
        for i, vector in enumerate(vectors):
            n = start + i
            title, text = texts[n % len(texts)]
            source_id = source_ids[n % SOURCES]
            rows.append(
                {
                    "id": f"{source_id}:{n}:bench",
                    "workspace_id": ids["workspace"],
                    "bot_id": ids["bot"],
                    "source_id": source_id,
                    "position": n,
                    "text": f"{text} (part {n // len(texts)})",
                    "title": title,
                    "heading": "",
                    "url": "",
                    "token_count": len(text.split()),
                    "vector": encode(vector),
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(KnowledgeChunk), rows)
    with session_scope() as session:
        knowledge_changed(session, ids["bot"])
    stored = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load; lexical.py reads the word statistics it keeps.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE knowledgechunk")
    return {
        "ids": ids,
        "store_rows_per_s": round(chunks / stored),
        "store_seconds": round(stored, 1),
    }


def embedder_speed() -> float:
    from chatapp.services.knowledge.embeddings import get_embedder

    embedder = get_embedder()
    texts = [text for _title, text in paragraphs(600)][:512]
    embedder.embed_documents(texts[:32])
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        embedder.embed_documents(texts[i : i + 32])
    return round(len(texts) / (time.perf_counter() - started), 1)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child() -> None:
    """The restarted process: reads commands on stdin, answers one JSON line each."""
    ids = json.loads(sys.argv[2])
    from chatapp.core.db import session_scope
    from chatapp.services.knowledge.embeddings import get_embedder
    from chatapp.services.knowledge.retrieval import retrieve

    def ask(workspace: int, bot: int, query: str):
        with session_scope() as session:
            return retrieve(session, workspace_id=workspace, bot_id=bot, query=query, limit=5)

    started = time.perf_counter()
    get_embedder().embed_query("warm up the model")
    ask(ids["small_workspace"], ids["small_bot"], "warm up the database")
    warm = time.perf_counter() - started
    before = rss_mb()
    started = time.perf_counter()
    ask(ids["workspace"], ids["bot"], "How do I sort a list in place?")
    first = time.perf_counter() - started
    after = rss_mb()
    print(
        json.dumps(
            {
                "model_and_db_warm_s": round(warm, 2),
                "first_query_s": round(first, 3),
                "rss_before_mb": round(before),
                "rss_after_mb": round(after),
                "bot_memory_mb": round(after - before),
            }
        ),
        flush=True,
    )
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "queries":
            print(json.dumps(timed_queries(ids, command["questions"])), flush=True)
        elif command["do"] == "find":
            started = time.perf_counter()
            found = ask(ids["workspace"], ids["bot"], command["query"])
            hit = bool(found.passages) and command["marker"] in found.passages[0].text
            print(json.dumps({"found": hit, "query_s": time.perf_counter() - started}), flush=True)
        else:
            return


def timed_queries(ids: dict, questions: list[str]) -> dict:
    from chatapp.core.db import session_scope
    from chatapp.services.knowledge import lexical
    from chatapp.services.knowledge.embeddings import get_embedder
    from chatapp.services.knowledge.index.vector_index import get_index
    from chatapp.services.knowledge.retrieval import retrieve

    embedder = get_embedder()
    index = get_index(embedder.dim)
    scope = {"workspace_id": ids["workspace"], "bot_id": ids["bot"]}
    total: list[float] = []
    stages: dict[str, list[float]] = {"embed": [], "dense": [], "lexical": []}
    for n, question in enumerate(questions):
        with session_scope() as session:
            started = time.perf_counter()
            retrieve(session, **scope, query=question, limit=5)
            total.append((time.perf_counter() - started) * 1000)
            t0 = time.perf_counter()
            vector = embedder.embed_documents([f"{question} ({n})"])[0]  # not the query cache
            t1 = time.perf_counter()
            index.search(**scope, vector=vector, limit=30)
            t2 = time.perf_counter()
            lexical.search(session, **scope, query=question, limit=30)
            t3 = time.perf_counter()
        stages["embed"].append((t1 - t0) * 1000)
        stages["dense"].append((t2 - t1) * 1000)
        stages["lexical"].append((t3 - t2) * 1000)
    total.sort()
    return {
        "query_ms_p50": round(statistics.median(total), 1),
        "query_ms_p95": round(total[int(0.95 * (len(total) - 1))], 1),
        "stage_ms_p50": {k: round(statistics.median(v), 1) for k, v in stages.items()},
        "stage_ms_p95": {
            k: round(sorted(v)[int(0.95 * (len(v) - 1))], 1) for k, v in stages.items()
        },
    }


def questions(count: int) -> list[str]:
    """Questions made of a paragraph's opening words (each different: no cached embeddings)."""
    picked = []
    for _title, text in paragraphs(4000)[::17]:
        words = re.findall(r"[A-Za-z]+", text)[:9]
        if len(words) >= 5:
            picked.append("What about " + " ".join(words) + "?")
        if len(picked) == count:
            break
    return picked


def ten_thousand_words() -> str:
    words = re.findall(r"[A-Za-z]+", (DOCS / "stdtypes.html").read_text())[:9_990]
    return " ".join(words)


def measure(url: str, chunks: int) -> dict:
    from chatapp.core.db import session_scope
    from chatapp.services.accounts.tenancy import actor_for
    from chatapp.services.knowledge import sources
    from chatapp.workers import ingest as worker

    data_dir = Path(tempfile.mkdtemp(prefix="bench-big-"))
    figures = build(url, chunks, data_dir)
    ids = figures.pop("ids")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(ids)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )

    def send(command: dict) -> dict:
        process.stdin.write(json.dumps(command) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    try:
        figures |= json.loads(process.stdout.readline())
        figures |= send({"do": "queries", "questions": questions(200)})
        marker = f"zebra{os.urandom(4).hex()}"
        text = (
            f"Zebra-striped {marker} marker sentence about the benchmark page. "
            + ten_thousand_words()
        )
        started = time.perf_counter()
        with session_scope() as session:
            owner = actor_for(session, user_id=ids["owner_user"], workspace_id=ids["workspace"])
            sources.add_text(session, owner, ids["bot"], title="Big page", text=text)
        worker.run_until_idle()
        ingested = time.perf_counter() - started
        found = send(
            {"do": "find", "marker": marker, "query": f"zebra-striped {marker} marker sentence"}
        )
        figures["10k_word_page"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "ingest_s": round(ingested, 2),
            "other_process_query_s": round(found["query_s"], 3),
            "found_by_the_other_process": found["found"],
        }
        process.stdin.write(json.dumps({"do": "quit"}) + "\n")
        process.stdin.close()
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    if not DOCS.exists():
        sys.exit("apt-get install -y python3.11-doc first")
    report: dict = {"chunks": args.chunks, "targets": TARGETS}
    report["embedder_chunks_per_s"] = embedder_speed()
    for database in args.databases.split(","):
        with contextlib.ExitStack() as stack:
            if database == "postgres":
                from tests.utils.databases import postgres_database

                url = stack.enter_context(postgres_database())
            else:
                url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-big-')}/chatapp.db"
            report[database] = measure(url, args.chunks)
            from chatapp.services.knowledge.index.vector_index import close_indexes

            close_indexes()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
