"""What an answer cites: numbered sources with a snippet, the ones an LLM answer referred to, and
whether an answer is the bot's fallback message (so it counts as unanswered)."""

from __future__ import annotations

import re
from typing import Any

from chatapp.services import prompts
from chatapp.services.retrieval import Passage

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
        "score": round(passage.score, 4),
        "source_id": passage.source_id,
    }


def cited(text: str, passages: list[Passage]) -> list[dict[str, Any]]:
    """The passages the LLM cited ([n]); all of them if it cited none."""
    numbers = {int(n) for n in re.findall(r"\[(\d{1,2})\]", text)}
    numbers = {n for n in numbers if 1 <= n <= len(passages)}
    chosen = sorted(numbers) or range(1, len(passages) + 1)
    return [source(n, passages[n - 1]) for n in chosen]


def is_fallback(text: str, fallback: str) -> bool:
    """True when the answer says the fallback message (an LLM may rephrase around it)."""

    def norm(value: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", value.lower()).strip()

    head = norm(fallback)[:60]
    return bool(head) and head in norm(text)
