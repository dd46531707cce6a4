"""The answers benchmark's checks and figures: key facts, fragments (answer sentences not whole in
their cited source), rates per kind and part, the threshold curve and the logistic fit."""

from __future__ import annotations

import re
import statistics
import unicodedata

from bench.answers_data import KINDS, Question


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
