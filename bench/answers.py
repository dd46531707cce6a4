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
import statistics
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "data" / "answers"
VALGRIND = Path("/usr/share/doc/valgrind/html")
VALGRIND_PAGES = ("faq.html", "quick-start.html", "manual-intro.html", "manual-core.html")
TARGETS = {
    "on_subject_fallback": 0.90,
    "off_topic_fallback": 0.98,
    "key_fact": 0.85,
    "wrongly_refused_max": 0.08,
    "fragments_max": 0,
    "judge_ms_p95_max": 60.0,
}
KINDS = ("answerable", "on_subject", "off_topic")


@dataclass
class Question:
    set: str
    kind: str  # answerable, on_subject, off_topic
    text: str
    gold: str = ""
    facts: list[str] = field(default_factory=list)
    split: str = "tune"  # tune or held
    result: dict = field(default_factory=dict)


def load_questions(name: str) -> list[Question]:
    """`questions.txt`: sections [answerable] / [on_subject] / [off_topic]; every third question
    of a section is held out (stratified by set and kind)."""
    questions: list[Question] = []
    kind, count = "", 0
    for line in (DATA / name / "questions.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            kind, count = line.strip("[]"), 0
            continue
        count += 1
        split = "held" if count % 3 == 0 else "tune"
        if kind == "answerable":
            text, gold, facts = (part.strip() for part in line.split(" | "))
            facts_list = [f.strip() for f in facts.split(";") if f.strip()]
            questions.append(Question(name, kind, text, gold, facts_list, split))
        else:
            questions.append(Question(name, kind, line, split=split))
    return questions


# ------------------------------------------------------------------------------ knowledge


def handbook_pdf(text: str) -> bytes:
    """The shop's handbook as a real PDF: wrapped lines, a running header and page numbers."""
    from fpdf import FPDF

    class Handbook(FPDF):
        def header(self):
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 6, "Northgate Cycles - Customer Handbook 2026", align="R")
            self.ln(10)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", "", 8)
            self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Handbook(format="A5")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    for block in text.split("\n\n"):
        block = block.strip()
        if block.startswith("# "):
            pdf.set_font("Helvetica", "B", 15)
            pdf.multi_cell(0, 8, block[2:])
        elif block.startswith("## "):
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, block[3:])
        else:
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(0, 5, block)  # wraps at the page width: lines end mid-sentence
        pdf.ln(2)
    return bytes(pdf.output())


def add_set(session, tenant, name: str) -> None:
    from chatapp.services.knowledge import sources

    owner, bot_id = tenant.owner, tenant.bot.id
    folder = DATA / name
    if name == "shop":
        for path in sorted((folder / "site").glob("*.html")):
            sources.add_file(session, owner, bot_id, filename=path.name, data=path.read_bytes())
        handbook = handbook_pdf((folder / "handbook.txt").read_text(encoding="utf-8"))
        sources.add_file(session, owner, bot_id, filename="handbook.pdf", data=handbook)
        guide = folder / "size-guide.md"
        sources.add_file(session, owner, bot_id, filename=guide.name, data=guide.read_bytes())
        for pair in _qa_pairs(folder / "qa.txt"):
            sources.add_qa(session, owner, bot_id, question=pair[0], answer=pair[1])
    elif name == "helpcentre":
        for path in sorted((folder / "pages").glob("*.html")):
            sources.add_file(session, owner, bot_id, filename=path.name, data=path.read_bytes())
    elif name == "valgrind":
        for page in VALGRIND_PAGES:
            data = (VALGRIND / page).read_bytes()
            sources.add_file(session, owner, bot_id, filename=page, data=data)
    else:
        raise SystemExit(f"unknown set {name}")


def _qa_pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            question, answer = line.split(" | ", 1)
            pairs.append((question.strip(), answer.strip()))
    return pairs


# ------------------------------------------------------------------------------ checks


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


def has_facts(answer: str, facts: list[str]) -> bool:
    answer = norm(answer)
    return all(norm(fact) in answer for fact in facts)


_MARKER = re.compile(r"\s?\[(\d{1,2})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_MARKUP = re.compile(r"\*\*|__|`")


def cited_parts(answer: str) -> list[tuple[int, str]]:
    """(citation number, text) for each part of an extractive answer: "a. b [1]. c [2]."."""
    parts, start = [], 0
    for match in _MARKER.finditer(answer):
        end = match.end()
        while end < len(answer) and answer[end] in ".!?;:":
            end += 1
        text = answer[start : match.start()] + answer[match.end() : end]
        parts.append((int(match.group(1)), text.strip()))
        start = end
    rest = answer[start:].strip()
    if rest:
        parts.append((0, rest))
    return parts


_FENCED = re.compile(r"```\n(.*?)\n```", re.DOTALL)


def whole_in(sentence: str, source: str) -> bool:
    """`sentence` appears in `source` (whitespace and markup aside, a line break counting as a
    space) starting at a sentence or line start and ending at a sentence or line end: a clipped
    sentence ("voucher value we accept is £5,000." after a PDF line wrap) is a fragment."""
    target = _MARKUP.sub("", re.sub(r"\s+", " ", sentence)).strip()
    core = target.rstrip(".!?;:")
    if not core:
        return True
    flat = _MARKUP.sub("", source)
    pattern = r"\s+".join(re.escape(word) for word in core.split(" "))
    for match in re.finditer(pattern, flat):
        before = flat[: match.start()]
        after = flat[match.end() :]
        gap = before[len(before.rstrip()) :]
        before = before.rstrip()
        starts = (
            not before
            or before[-1] in ".!?:;)\"'|"
            or re.search(r"\n[ \t]*\n", gap) is not None  # a new paragraph
            or ("\n" in gap and _line_ended(before) and not core[:1].islower())
            or re.search(r"(?:^|\n)\s*(?:[-*+\u2022]|\d+[.)])$", before) is not None
        )
        ends = (
            not after.strip()
            or after[:1] in ".!?|"
            or (after[:1] in ";:" and target.endswith((";", ":")))
            or re.match(r"[ \t]*\n", after) is not None
            or core[-1] in ")\"'"
        )
        if starts and ends:
            return True
    return False


def _line_ended(before: str) -> bool:
    """A match after a line break starts a sentence when the previous line ended one, or was a
    heading or a list/table line (no wrap joined it to the match)."""
    previous = before.rsplit("\n", 1)[-1].strip()
    return not previous or previous[-1] in ".!?:;)\"'|" or len(previous.split()) <= 8


def split_sentences(text: str) -> list[str]:
    """Sentences, and each line on its own: a table row or list item is a unit of its own (a
    header row quoted above the row it explains is not one sentence with it)."""
    return [s for line in text.split("\n") for s in _SENTENCE_END.split(line) if s.strip()]


def fragments(answer: str, sources: list[dict], source_texts: dict[int, str]) -> list[str]:
    """Answer sentences that do not appear whole in their cited source's extracted text."""
    by_number = {s.get("n"): s.get("source_id") for s in sources}
    bad = []
    for number, text in cited_parts(answer):
        source_text = source_texts.get(by_number.get(number, -1), "")
        for block in _FENCED.findall(text):  # a code block must be there whole, line by line
            if " ".join(block.split()) not in " ".join(source_text.split()):
                bad.append(block)
        for sentence in split_sentences(_FENCED.sub("\n", text)):
            if not whole_in(sentence, source_text):
                bad.append(sentence)
    return bad


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
    from chatapp.services.bots import crud as bots
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


# ------------------------------------------------------------------------------ figures


def rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def figures(questions: list[Question], label: str, texts: dict[str, dict[int, str]]) -> dict:
    def results(kind):
        return [(q, q.result[label]) for q in questions if q.kind == kind and label in q.result]

    answerable = results("answerable")
    answered = [(q, r) for q, r in answerable if r["answered"]]
    bad: list[dict] = []
    for q, r in answered:
        for sentence in fragments(r["answer"], r["sources"], texts[q.set]):
            bad.append({"q": q.text, "sentence": sentence})
    out = {
        "on_subject_fallback": rate([not r["answered"] for _, r in results("on_subject")]),
        "off_topic_fallback": rate([not r["answered"] for _, r in results("off_topic")]),
        "key_fact": rate(
            [r["answered"] and has_facts(r["answer"], q.facts) for q, r in answerable]
        ),
        "key_fact_when_answered": rate([has_facts(r["answer"], q.facts) for q, r in answered]),
        "wrongly_refused": rate([not r["answered"] for _, r in answerable]),
        "answers_checked": len(answered),
        "fragments": len(bad),
        "counts": {kind: len(results(kind)) for kind in KINDS},
    }
    if label == "judged":
        ms = sorted(r["judge_ms"] for q in questions for r in [q.result.get(label)] if r)
        if ms:
            out["judge_ms_p50"] = round(statistics.median(ms), 1)
            out["judge_ms_p95"] = round(ms[int(0.95 * (len(ms) - 1))], 1)
        added = sorted(r["added_ms"] for q in questions for r in [q.result.get(label)] if r)
        if added:
            out["added_ms_p50"] = round(statistics.median(added), 1)
            out["added_ms_p95"] = round(added[int(0.95 * (len(added) - 1))], 1)
        out["retrieval_confident_on_unanswerable"] = rate(
            [r["retrieval_confident"] for k in ("on_subject", "off_topic") for _, r in results(k)]
        )
    out["_fragments"] = bad[:10]
    return out


def report_for(questions: list[Question], label: str, texts) -> dict:
    report = {}
    for split in ("tune", "held"):
        part = [q for q in questions if q.split == split]
        report[split] = figures(part, label, texts)
    return report


def curve(questions: list[Question]) -> list[dict]:
    """Fallback rate on unanswerable vs wrongly refused, per threshold on judge's score."""
    tune = [q for q in questions if q.split == "tune" and "judged" in q.result]
    points = []
    for threshold in [round(0.05 * i, 2) for i in range(1, 20)]:
        refused = {q.text: q.result["judged"]["score"] < threshold for q in tune}
        row = {"threshold": threshold}
        for kind in KINDS:
            values = [refused[q.text] for q in tune if q.kind == kind]
            row["wrongly_refused" if kind == "answerable" else f"{kind}_fallback"] = rate(values)
        points.append(row)
    return points


def fit(questions: list[Question], *, with_sentence: bool = True) -> dict:
    """Logistic regression (plain gradient descent) of answerable on the signals, tuning part."""
    import numpy as np

    names = ["coverage", "dense", "sentence"] if with_sentence else ["coverage", "dense"]
    tune = [q for q in questions if q.split == "tune" and "judged" in q.result]
    x = np.array([[q.result["judged"]["signals"].get(n, 0.0) for n in names] for q in tune])
    y = np.array([1.0 if q.kind == "answerable" else 0.0 for q in tune])
    # Unanswerable questions are fewer: weigh the classes equally.
    w_class = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    w, b = np.zeros(len(names)), 0.0
    for _ in range(20000):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        grad = (p - y) * w_class
        w -= 2.0 * (x.T @ grad + 1e-4 * w)
        b -= 2.0 * grad.sum()
    return {
        "bias": round(float(b), 3),
        **{n: round(float(v), 3) for n, v in zip(names, w, strict=True)},
    }


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
