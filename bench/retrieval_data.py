"""The retrieval benchmark's corpus and questions: Python's HTML documentation (Debian's
python3.11-doc), its FAQ questions with their gold answers, and the text measures used to match a
passage to an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

DOCS = Path("/usr/share/doc/python3.11/html")
DISTRACTORS = Path("/usr/share/doc/valgrind/html")


@dataclass
class Question:
    text: str
    page: str  # relative path of the FAQ page
    gold: str  # the answer section's text


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}


def leaf_sections(soup: BeautifulSoup):
    body = soup.find("div", attrs={"role": "main"}) or soup.body
    for section in body.find_all(["section", "div"]):
        heading = section.find(["h2", "h3", "h4"], recursive=False)
        if section.get("id") and heading and not section.find("section", recursive=False):
            yield section, heading


def load_questions() -> list[Question]:
    questions = []
    for path in sorted((DOCS / "faq").glob("*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for section, heading in leaf_sections(soup):
            question = heading.get_text(" ", strip=True).replace("¶", "").strip()
            if not question.endswith("?"):
                continue
            heading_text = heading.get_text(" ", strip=True)
            gold = section.get_text(" ", strip=True).replace(heading_text, "", 1)
            questions.append(Question(question, str(path.relative_to(DOCS)), gold))
    return questions


def without_faq_questions(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for _section, heading in list(leaf_sections(soup)):
        heading.decompose()
    return str(soup)


def corpus(root: Path, max_pages: int | None) -> list[Path]:
    pages = [
        p for p in sorted(root.rglob("*.html")) if not p.relative_to(root).parts[0].startswith("_")
    ]
    if not max_pages:
        return pages
    faq = [p for p in pages if p.relative_to(root).parts[0] == "faq"]  # keep the answers in
    return faq + [p for p in pages if p not in faq][: max(0, max_pages - len(faq))]
