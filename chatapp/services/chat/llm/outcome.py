"""What a streamed LLM answer means, decided while it streams.

The grounding prompt asks the model to reply with exactly `MARKER` when the passages do not
answer, so "not in the sources" is a machine-readable outcome rather than a guess from wording.
Small local models also write tool calls as text when their chat format ignores `tools` (or after
the tool-call limit): `functions.http_1: {...}`, `<tool_call>...</tool_call>`, a bare
`{"name": ..., "arguments": ...}`. Neither the marker nor such text may reach the visitor.

`AnswerFilter.feed(piece)` returns what may be shown now: it holds back the answer's first
characters until it can tell whether they are the marker (or a bare JSON call), and any tail that
may be the start of a marker or a pseudo call. `finish()` returns the rest; then
`not_in_sources`, `text` (what was shown) and `dropped_calls` tell the outcome.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from chatapp.services.chat.llm import client as llm

MARKER = "NOT_IN_SOURCES"
HOLD_CHARS = 48  # the longest tail that can still become a marker or a pseudo call's opening

# Markdown and quotes a model may wrap the marker in.
_LEAD_NOISE = " \t\r\n*_\"'`>#-"
_LEAD_MARKER = re.compile(r"NOT[\s_-]*IN[\s_-]*(?:THE[\s_-]*)?SOURCES?", re.IGNORECASE)
_OPENER = re.compile(
    r"(?P<fn>\bfunctions\.[\w-]+\s*:?\s*(?=[{\[]))"
    r"|(?P<tag><tool_call>|<\|tool_call\|>|<function=[\w.-]+>)"
    r"|(?P<json>\[TOOL_CALLS\]|<\|python_tag\|>)"
    r"|(?P<marker>NOT_IN_SOURCES)"
)
_CLOSERS = {"<tool_call>": "</tool_call>", "<|tool_call|>": "<|/tool_call|>"}
_LITERALS = ("<tool_call>", "<|tool_call|>", "<|python_tag|>", "[TOOL_CALLS]", MARKER)
_FIRST = re.compile(r"[<\[Nf]")  # how every opener (and the marker) begins
_PARTIAL = re.compile(r"functions\.[\w-]*\s*:?\s*|<function=[\w.-]*")


class AnswerFilter:
    """Feed each streamed piece; show what `feed` and `finish` return, nothing else."""

    def __init__(self) -> None:
        self.not_in_sources = False
        self.dropped_calls = 0  # pseudo tool calls removed from the text
        self.marker_seen = False
        self._shown: list[str] = []
        self._pending = ""
        self._lead_done = False
        self._skip = ""  # inside a pseudo call: "json" or the closing tag to wait for
        self._skipped = ""
        self._done = False

    @property
    def text(self) -> str:
        """What the visitor was shown."""
        return "".join(self._shown)

    @property
    def empty(self) -> bool:
        """Nothing worth showing came (and the model did not say "not in the sources")."""
        return not self.not_in_sources and not re.search(r"\w", self.text)

    def feed(self, piece: str) -> str:
        if self._done or self.not_in_sources:
            return ""
        self._pending += piece
        return self._show(self._drain(final=False))

    def finish(self) -> str:
        if self._done:
            return ""
        self._done = True
        out = "" if self.not_in_sources else self._drain(final=True)
        if self.marker_seen and not re.search(r"\w", self.text + out):
            self.not_in_sources = True  # the answer was the marker, wherever it stood
        return self._show(out)

    def _show(self, text: str) -> str:
        if text:
            self._shown.append(text)
        return text

    def _drain(self, *, final: bool) -> str:
        out: list[str] = []
        while True:
            if self._skip and not self._skip_on(final):
                break
            if not self._lead_done and not self._lead(final):
                break
            if self.not_in_sources:
                self._pending = ""
                break
            found = _OPENER.search(self._pending)
            if found is None:
                cut = len(self._pending) if final else _hold_from(self._pending)
                out.append(self._pending[:cut])
                self._pending = self._pending[cut:]
                break
            out.append(self._pending[: found.start()])
            self._pending = self._pending[found.end() :]
            if found.group("marker"):
                self.marker_seen = True
            else:
                opener = found.group(0).strip()
                self._skip = _CLOSERS.get(opener) or (
                    "</function>" if opener.startswith("<function=") else "json"
                )
                self._skipped = ""
                self.dropped_calls += 1
        return "".join(out)

    def _lead(self, final: bool) -> bool:
        """Decide how the answer starts; False while it cannot be told yet."""
        lead = self._pending.lstrip(_LEAD_NOISE)
        if not lead:
            if final:
                self._lead_done = True
            return final
        marker = _LEAD_MARKER.match(lead)
        if marker:
            self.not_in_sources = self.marker_seen = True
            return True
        if not final and _could_be_marker(lead):
            return False
        if lead[0] == "{":
            end = _json_end(lead)
            if end is None:
                if not final:
                    return False
            elif _is_call(lead[:end]):
                self.dropped_calls += 1
                self._pending = lead[end:]
                return self._lead(final)  # another call may follow
        self._lead_done = True
        return True

    def _skip_on(self, final: bool) -> bool:
        """Swallow a pseudo call; True once it is over (the rest stays pending)."""
        self._skipped += self._pending
        self._pending = ""
        if self._skip == "json":
            body = self._skipped.lstrip()
            if body and body[0] not in "{[":
                self._pending, self._skip = body, ""
                return True
            end = _json_end(body) if body else None
            if end is not None:
                self._pending, self._skip = body[end:], ""
                return True
        else:
            at = self._skipped.find(self._skip)
            if at >= 0:
                self._pending = self._skipped[at + len(self._skip) :]
                self._skip = ""
                return True
        if final:
            self._skipped, self._skip = "", ""
        return False


def _could_be_marker(lead: str) -> bool:
    """The lead is still a prefix of the marker (in one of the spellings `_LEAD_MARKER` takes)."""
    squeezed = re.sub(r"[\s_-]", "", lead.upper())
    return bool(squeezed) and any(
        word.startswith(squeezed) for word in ("NOTINSOURCES", "NOTINTHESOURCES")
    )


def _hold_from(text: str) -> int:
    """Where the tail that may still become an opener (or the marker) starts."""
    for found in _FIRST.finditer(text, max(0, len(text) - HOLD_CHARS)):
        start = found.start()
        tail = text[start:]
        if start and tail[0] == "f" and text[start - 1].isalnum():
            continue  # "functions." only as a word of its own
        if any(literal.startswith(tail) for literal in _LITERALS):
            return start
        if any(p.startswith(tail) for p in ("functions.", "<function=")):
            return start
        if _PARTIAL.fullmatch(tail):
            return start
    return len(text)


def _json_end(text: str) -> int | None:
    """The index just past the JSON value `text` starts with ({ or [), or None if unfinished."""
    depth, in_string, escaped = 0, False, False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _is_call(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(value, dict)
        and "name" in value
        and ("arguments" in value or "parameters" in value)
    )


async def filtered(pieces: AsyncIterator[str], answer: AnswerFilter) -> AsyncIterator[str]:
    """The pieces the visitor may see; raises `llm.LLMError("llm_empty")` when none remain
    and the model did not say "not in the sources" (never an empty stored answer)."""
    async for piece in pieces:
        shown = answer.feed(piece)
        if shown:
            yield shown
    rest = answer.finish()
    if rest:
        yield rest
    if answer.empty:
        raise llm.LLMError("llm_empty", llm.EMPTY)
