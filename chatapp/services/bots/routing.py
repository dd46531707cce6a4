"""A router bot's choice per message: one target bot, two (a message with two intents), or a
clarifying question (seed 002).

Offline, each candidate bot is scored by meaning, knowledge and words (`routing_scores.py`).
The top bot is chosen when it leads clearly; otherwise the router asks which bot is meant. A
message of two parts (two sentences or questions, or clauses joined by "and"/"also") is split
when each part goes to a different bot with confidence.

With an LLM, a JSON classification is asked for (`{"routes": [{"bot": name, "text": part}]}` or
`{"clarify": true}`), strictly parsed; any error or unexpected reply falls back to offline.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import numpy as np
from sqlmodel import Session

from chatapp.core.db import session_scope
from chatapp.services.bots.routing_scores import Candidate, Scorer, candidates
from chatapp.services.chat.llm import client as llm
from chatapp.services.knowledge.embeddings import get_embedder

log = logging.getLogger(__name__)

# Thresholds chosen on bench/routing.py (docs/ARCHITECTURE.md has the figures).
MIN_SCORE = 0.30  # below this the best bot is not a fit: ask
MIN_MARGIN = 0.05  # the best bot must lead the second by this much, else ask
PART_MARGIN = 0.05  # each part of a split message must be this clear
MIN_PART_WORDS = 3


@dataclass(frozen=True)
class RouterRef:
    """The router bot as routing needs it (no session-bound row)."""

    id: int
    workspace_id: int


@dataclass(frozen=True)
class Target:
    bot_id: int
    name: str
    text: str  # the part of the message this bot answers
    score: float = 0.0


@dataclass
class Decision:
    kind: str  # "route" (one or two targets), "clarify", or "none" (no candidate bot)
    targets: list[Target] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # named in a clarifying question
    method: str = "offline"  # or "llm"

    @property
    def question(self) -> str:
        """The clarifying question, naming the candidate bots."""
        names = [c.name for c in self.candidates]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return (
            f"I want to make sure the right assistant answers you: is your question about "
            f"{listed}? Please tell me a little more."
        )


# --------------------------------------------------------------------------- splitting


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_JOIN = re.compile(
    r"\s*(?:,\s*)?\b(?:and also|and then|also|plus|and|as well as|another thing|oh and)\b\s*",
    re.IGNORECASE,
)


def splits(message: str) -> list[tuple[str, str]]:
    """Ways to cut a message into two intents: between sentences, then at joining words."""
    text = message.strip()
    found: list[tuple[str, str]] = []
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    for i in range(1, len(sentences)):
        found.append((" ".join(sentences[:i]), " ".join(sentences[i:])))
    for match in _JOIN.finditer(text):
        left, right = text[: match.start()].strip(" ,;"), text[match.end() :].strip(" ,;")
        if left and right:
            found.append((left, right))
    return [
        (a, b)
        for a, b in found
        if len(a.split()) >= MIN_PART_WORDS and len(b.split()) >= MIN_PART_WORDS
    ]


# ---------------------------------------------------------------------------- deciding


def _ranked(scores: np.ndarray) -> tuple[int, float, float]:
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    second = float(scores[order[1]]) if len(order) > 1 else 0.0
    return int(order[0]), best, best - second


def decide_offline(
    session: Session, router: Any, message: str, embedder: Any = None, pool=None
) -> Decision:
    """Route by meaning, knowledge and words; split two intents; ask when unclear."""
    pool = candidates(session, router) if pool is None else pool
    if not pool:
        return Decision("none")
    if len(pool) == 1:
        c = pool[0]
        return Decision("route", [Target(c.bot_id, c.name, message, 1.0)])
    if embedder is None:
        embedder = get_embedder()
    scorer = Scorer(session, router.workspace_id, pool, embedder)
    whole = scorer.scores(message)
    top, best, margin = _ranked(whole)

    # Two intents: the clearest cut whose parts go to two different bots, each with confidence.
    best_split: tuple[float, list[Target]] | None = None
    for left, right in splits(message):
        a, a_best, a_margin = _ranked(scorer.scores(left))
        b, b_best, b_margin = _ranked(scorer.scores(right))
        if a == b or min(a_margin, b_margin) < PART_MARGIN:
            continue
        if min(a_best, b_best) < MIN_SCORE:
            continue
        strength = min(a_margin, b_margin)
        if best_split is None or strength > best_split[0]:
            best_split = (
                strength,
                [
                    Target(pool[a].bot_id, pool[a].name, left, a_best),
                    Target(pool[b].bot_id, pool[b].name, right, b_best),
                ],
            )
    if best_split is not None:
        return Decision("route", best_split[1])

    if best >= MIN_SCORE and margin >= MIN_MARGIN:
        c = pool[top]
        return Decision("route", [Target(c.bot_id, c.name, message, best)])
    order = np.argsort(-whole)
    close = [pool[int(i)] for i in order if whole[int(i)] >= best - 2 * MIN_MARGIN]
    return Decision("clarify", candidates=close[:3] if len(close) >= 2 else pool[:3])


# ----------------------------------------------------------------------------------- LLM


def llm_messages(pool: Sequence[Candidate], message: str) -> list[dict[str, str]]:
    bots = "\n".join(f"- {c.name}: {c.description}" for c in pool)
    return [
        {
            "role": "system",
            "content": (
                "You route a customer's message to the assistant(s) that should answer it.\n"
                f"Assistants:\n{bots}\n"
                'Reply with JSON only: {"routes": [{"bot": "<assistant name>", "text": "<the '
                'part of the message for it>"}]} with one route, or two when the message asks '
                'two things for two different assistants; or {"clarify": true} when it is not '
                "clear which assistant fits."
            ),
        },
        {"role": "user", "content": message[:4000]},
    ]


def parse_llm(pool: Sequence[Candidate], message: str, reply: str) -> Decision | None:
    """The model's JSON as a Decision; None when it is not exactly what was asked for."""
    text = reply.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("clarify") is True and not data.get("routes"):
        return Decision("clarify", candidates=list(pool[:3]), method="llm")
    routes = data.get("routes")
    if not isinstance(routes, list) or not 1 <= len(routes) <= 2:
        return None
    by_name = {c.name.strip().lower(): c for c in pool}
    targets = []
    for route in routes:
        if not isinstance(route, dict) or not isinstance(route.get("bot"), str):
            return None
        c = by_name.get(route["bot"].strip().lower())
        if c is None:
            return None
        part = route.get("text") if isinstance(route.get("text"), str) else ""
        targets.append(Target(c.bot_id, c.name, part.strip() or message, 1.0))
    if len(targets) == 2 and targets[0].bot_id == targets[1].bot_id:
        targets = [Target(targets[0].bot_id, targets[0].name, message, 1.0)]
    if len(targets) == 1:
        targets = [Target(targets[0].bot_id, targets[0].name, message, 1.0)]
    return Decision("route", targets, method="llm")


async def decide(router: Any, message: str, config: Any = None, embedder: Any = None) -> Decision:
    """The LLM's routing when one is configured and answers well; offline otherwise."""

    def offline_pool() -> list[Candidate]:
        with session_scope() as session:
            return candidates(session, router)

    pool = await anyio.to_thread.run_sync(offline_pool)
    if config is not None and len(pool) > 1:
        try:
            reply = await llm.complete(config, llm_messages(pool, message), max_tokens=300)
        except llm.LLMError:
            log.info("routing by the model failed; routing offline")
        else:
            decision = parse_llm(pool, message, reply)
            if decision is not None:
                return decision
            log.info("routing: the model's reply was not the JSON asked for; routing offline")

    def offline() -> Decision:
        with session_scope() as session:
            return decide_offline(session, router, message, embedder, pool)

    return await anyio.to_thread.run_sync(offline)


def decide_sync(router: Any, message: str, embedder: Any = None) -> Decision:
    """Offline routing in its own session (scripts, the benchmark)."""
    with session_scope() as session:
        return decide_offline(session, router, message, embedder)
