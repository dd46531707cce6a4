"""Answers benchmark: does the bot answer what its content covers, and refuse what it does not?

Three knowledge sets (bench/data/answers/README.md): a bike shop (website pages, a handbook PDF
made here with wrapped lines, a Markdown guide, Q&A pairs), a software help centre (HTML with
navigation, `<pre>` code and inline `<code>`) and Valgrind's own documentation as Debian ships it.
Each set is ingested through the real pipeline (sources.add_* -> the ingest worker in process) as
one bot; every question is then asked twice:

* judged: the passages `retrieval.retrieve` finds, judged by `answerability.judge` (timed: what
  answerability adds), and when answerable composed by `extractive.compose` as the engine does;
* end to end: through the public chat service, `chat_engine.reply(ChatRequest(...))`, with the
  widget key, as a visitor asks (whatever the engine does with answerability at the time).

Figures per set and overall, tuning and held-out parts apart (every third question of each kind
is held out): fallback rate on unanswerable questions (on the subject, off topic), key facts
present and wrongly refused on answerable ones, fragments (answer sentences that do not appear
whole in the text extracted from their cited source), p95 ms of `judge`, and the trade-off curve of
the threshold on the tuning part. `--fit` also fits the logistic weights of answerability.py on the
tuning part (how its constants were chosen). `--llm stub` repeats the end-to-end run against the
stub LLM server of tests/utils/fake_llm.py (see bench/README.md for what that does and does not
prove).

Usage: .venv/bin/python bench/answers.py [--sets shop,helpcentre,valgrind] [--fit] [--llm stub]
Prints one JSON object. Needs: apt-get install -y valgrind (its HTML documentation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.answers_data import KINDS, VALGRIND, Question, add_set, load_questions  # noqa: E402
from bench.answers_scoring import curve, fit, report_for, split_sentences  # noqa: E402

TARGETS = {
    "on_subject_fallback": 0.90,
    "off_topic_fallback": 0.98,
    "key_fact": 0.85,
    "wrongly_refused_max": 0.08,
    "fragments_max": 0,
    "judge_ms_p95_max": 60.0,
}

# ------------------------------------------------------------------------------ running


def setup_store() -> Path:
    from chatapp.core import migrations
    from chatapp.core.config import reset_settings
    from chatapp.core.db import dispose_engines
    from chatapp.services.knowledge.index.vector_index import close_indexes

    data_dir = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    os.environ.update(
        DATA_DIR=str(data_dir),
        INGEST_WORKER="false",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_ROUNDS="1",
    )
    os.environ.pop("DATABASE_URL", None)
    reset_settings()
    dispose_engines()
    close_indexes()
    migrations.upgrade()
    return data_dir


def ingest(names: list[str]) -> dict:
    from chatapp.core.db import session_scope
    from chatapp.services.bots import bots
    from chatapp.workers import ingest as worker
    from tests.utils.factories import make_tenant

    bots_by_set = {}
    with session_scope() as session:
        for name in names:
            tenant = make_tenant(session, f"answers-{name}")
            _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
            add_set(session, tenant, name)
            bots_by_set[name] = (tenant, key, tenant.bot.public_id)
    worker.run_until_idle()
    return bots_by_set


def source_texts(tenant) -> dict[int, str]:
    """Each source's extracted (cleaned) text, from its chunks in order."""
    from sqlmodel import select

    from chatapp.core.db import session_scope
    from chatapp.services.models import KnowledgeChunk, Source

    texts: dict[int, list[str]] = {}
    with session_scope() as session:
        rows = session.exec(
            select(KnowledgeChunk.source_id, KnowledgeChunk.text)
            .where(KnowledgeChunk.bot_id == tenant.bot.id)
            .order_by(KnowledgeChunk.source_id, KnowledgeChunk.id)
        ).all()
        errors = session.exec(
            select(Source.title, Source.error).where(
                Source.bot_id == tenant.bot.id, Source.status != "ready"
            )
        ).all()
    if errors:
        print(f"ingest errors: {errors}", file=sys.stderr)
    for source_id, text in rows:
        texts.setdefault(source_id, []).append(text)
    return {k: "\n".join(v) for k, v in texts.items()}


def judge_questions(tenant, questions: list[Question]) -> None:
    """Retrieval -> judge (timed) -> compose, as the engine does, per question."""
    from chatapp.core.config import get_settings
    from chatapp.core.db import session_scope
    from chatapp.services.chat.compose import answerability, extractive
    from chatapp.services.knowledge.embeddings import get_embedder
    from chatapp.services.knowledge.retrieval import retrieve

    embedder = get_embedder()
    limit = get_settings().chat_passages
    with session_scope() as session:
        for question in questions:
            found = retrieve(
                session,
                workspace_id=tenant.workspace.id,
                bot_id=tenant.bot.id,
                query=question.text,
                limit=limit,
            )
            # What answerability adds, on a cold sentence cache (the worst case): judge + compose
            # (when answerable) against compose alone, as the engine did before.
            extractive._cache = type(extractive._cache)()  # a cold cache
            t0 = time.perf_counter()
            extractive.compose(question.text, found.passages, embedder=embedder)
            before_ms = (time.perf_counter() - t0) * 1000
            extractive._cache = type(extractive._cache)()  # a cold cache
            t0 = time.perf_counter()
            verdict = answerability.judge(question.text, found.passages, embedder=embedder)
            judge_ms = (time.perf_counter() - t0) * 1000
            extract = None
            if verdict.answerable:
                extract = extractive.compose(question.text, found.passages, embedder=embedder)
            added_ms = (time.perf_counter() - t0) * 1000 - before_ms
            answer = extract.text if extract else ""
            sources = (
                [{"n": n, "source_id": p.source_id} for n, p in enumerate(extract.passages, 1)]
                if extract
                else []
            )
            question.result["judged"] = {
                "answered": extract is not None,
                "answer": answer,
                "sources": sources,
                "verdict": verdict.strength,
                "score": verdict.score,
                "signals": verdict.signals,
                "retrieval_confident": found.confident,
                "judge_ms": judge_ms,
                "added_ms": added_ms,
            }


def ask_questions(public_id: str, key: str, questions: list[Question], label: str) -> None:
    """Each question through the public chat service, as a new visitor."""
    from chatapp.services.chat import engine as chat_engine
    from chatapp.services.chat.request import ChatRequest

    async def run():
        for question in questions:
            request = ChatRequest(
                bot_id=public_id,
                api_key=key,
                message=question.text,
                session_id="bench-" + secrets.token_hex(8),
            )
            t0 = time.perf_counter()
            try:
                reply = await chat_engine.reply(request)
                result = {
                    "answered": bool(reply.answered),
                    "answer": reply.answer,
                    "sources": reply.sources,
                    "error": reply.error,
                }
            except Exception as exc:  # a refusal or a bug: counted, not fatal
                result = {"answered": False, "answer": "", "sources": [], "error": repr(exc)}
            result["ms"] = (time.perf_counter() - t0) * 1000
            question.result[label] = result

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="shop,helpcentre,valgrind")
    parser.add_argument("--fit", action="store_true", help="fit answerability's weights")
    parser.add_argument("--llm", choices=["none", "stub"], default="none")
    parser.add_argument("--no-chat", action="store_true", help="judged path only (faster)")
    parser.add_argument("--dump", help="write every question's results to this JSON file")
    args = parser.parse_args()
    names = args.sets.split(",")
    if "valgrind" in names and not (VALGRIND / "faq.html").exists():
        sys.exit("apt-get install -y valgrind first")
    data_dir = setup_store()
    from chatapp.services.knowledge.embeddings import get_embedder

    started = time.perf_counter()
    bots_by_set = ingest(names)
    ingest_seconds = time.perf_counter() - started
    get_embedder().embed_query("warm up")
    questions: list[Question] = []
    texts: dict[str, dict[int, str]] = {}
    for name in names:
        tenant, key, public_id = bots_by_set[name]
        mine = load_questions(name)
        texts[name] = source_texts(tenant)
        judge_questions(tenant, mine)
        if not args.no_chat:
            ask_questions(public_id, key, mine, "offline")
        questions += mine
    if args.llm == "stub":
        run_stub(bots_by_set, questions)

    report: dict = {"targets": TARGETS, "data_dir": str(data_dir)}
    report["sizes"] = {
        name: {
            kind: {
                split: sum(
                    1 for q in questions if q.set == name and q.kind == kind and q.split == split
                )
                for split in ("tune", "held")
            }
            for kind in KINDS
        }
        for name in names
    }
    report["ingest_seconds"] = round(ingest_seconds, 1)
    labels = (
        ["judged"]
        + ([] if args.no_chat else ["offline"])
        + (["stub"] if args.llm == "stub" else [])
    )
    for label in labels:
        report[label] = {"overall": report_for(questions, label, texts)}
        for name in names:
            report[label][name] = report_for([q for q in questions if q.set == name], label, texts)
    report["curve_tune"] = curve(questions)
    if args.fit:
        report["fit"] = fit(questions)
        report["fit_no_sentence"] = fit(questions, with_sentence=False)
    if args.dump:
        Path(args.dump).write_text(
            json.dumps([q.__dict__ for q in questions], indent=1, default=str), encoding="utf-8"
        )
    from chatapp.services.knowledge.index.vector_index import close_indexes

    close_indexes()
    print(json.dumps(report, indent=2, ensure_ascii=False))


def run_stub(bots_by_set: dict, questions: list[Question]) -> None:
    """The end-to-end run again with the stub LLM: it answers by echoing the first passage of the
    prompt with a citation, or the bot's fallback when the prompt holds no passage."""
    from chatapp.core.config import reset_settings
    from tests.utils.fake_llm import fake_llm_server

    def answer(body: dict) -> str:
        prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        match = re.search(r"\[1\][^\n]*\n(.+)", prompt)
        if not match:
            return "I don't have that information in my knowledge base."
        first = split_sentences(match.group(1).strip())
        return f"{first[0].rstrip('.')} [1]." if first else "I don't know."

    with fake_llm_server() as server:
        server.reply = answer
        os.environ.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-bench-stub-0001")
        reset_settings()
        try:
            for name, (_tenant, key, public_id) in bots_by_set.items():
                ask_questions(public_id, key, [q for q in questions if q.set == name], "stub")
        finally:
            os.environ.pop("OPENAI_BASE_URL", None)
            os.environ.pop("OPENAI_API_KEY", None)
            reset_settings()


if __name__ == "__main__":
    main()
