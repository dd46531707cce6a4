"""The answers benchmark's knowledge sets and questions (bench/data/answers/README.md): each set's
sources added to a bot, each set's questions with their kind, gold answer, key facts and part
(tuning or held out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "answers"
VALGRIND = Path("/usr/share/doc/valgrind/html")
VALGRIND_PAGES = ("faq.html", "quick-start.html", "manual-intro.html", "manual-core.html")
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
