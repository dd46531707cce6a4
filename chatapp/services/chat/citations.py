"""What an answer cites: numbered sources with a snippet, the ones an LLM answer referred to, and
whether an answer is the bot's fallback message (so it counts as unanswered).

Only cited passages are sources: listing every retrieved passage made an invented answer look
grounded. When an answer cites none, `listed` gives them marked `consulted: True` (read, not
cited), so the widget and the playground can say so instead of claiming them as sources."""

from __future__ import annotations

import re
from typing import Any

from chatapp.services.chat.llm import prompts
from chatapp.services.knowledge.retrieval import Passage

SNIPPET_CHARS = 240


def source(number: int, passage: Passage) -> dict[str, Any]:
    """Passage `number` as the widget and the playground show it under the answer."""
    snippet = re.sub(r"\s+", " ", passage.text).strip()
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "..."
    return {
        "n": number,
        "title": prompts.passage_label(passage),
        "url": passage.url,
        "file": passage.file_name,
        "page": passage.page,
        "snippet": snippet,
        "source_id": passage.source_id,
    }


_GROUP = re.compile(r"\[(\d{1,2}(?:\s*[,;\u2013-]\s*\d{1,2})*)\]")
_RANGE = re.compile(r"(\d{1,2})(?:\s*[\u2013-]\s*(\d{1,2}))?")


def cited_numbers(text: str, count: int) -> list[int]:
    """The passage numbers the answer cites: [1], [1][3], [1, 3] or [1-2]; in range only."""
    numbers: set[int] = set()
    for group in _GROUP.findall(text):
        for low, high in _RANGE.findall(group):
            numbers.update(range(int(low), int(high or low) + 1))
    return sorted(n for n in numbers if 1 <= n <= count)


def cited(text: str, passages: list[Passage]) -> list[dict[str, Any]]:
    """The passages the answer cites ([n]), and only those."""
    return [source(n, passages[n - 1]) for n in cited_numbers(text, len(passages))]


def consulted(text: str, passages: list[Passage]) -> list[dict[str, Any]]:
    """The passages given to the model that the answer does not cite, marked `consulted`."""
    numbers = set(cited_numbers(text, len(passages)))
    return [
        {**source(n, p), "consulted": True}
        for n, p in enumerate(passages, start=1)
        if n not in numbers
    ]


def listed(text: str, passages: list[Passage]) -> list[dict[str, Any]]:
    """What to show under an answer: the cited passages, or when none is cited, every passage
    marked as consulted."""
    return cited(text, passages) or consulted(text, passages)


def is_fallback(text: str, fallback: str) -> bool:
    """True when the answer says the fallback message (an LLM may rephrase around it)."""

    def norm(value: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", value.lower()).strip()

    head = norm(fallback)[:60]
    return bool(head) and head in norm(text)
