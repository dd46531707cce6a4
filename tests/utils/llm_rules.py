"""What the fake LLM server (tests/utils/fake_llm.py) judges a request by, as llama.cpp's server
does: how many tokens a prompt takes, which requests it refuses, and how a chat format without
tool support writes tool calls into the answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

_TOKEN = re.compile(r"\w+|[^\w\s]")


def prompt_tokens(body: dict) -> int:
    """The prompt's tokens as the server counts them: words and punctuation marks, plus the tool
    schemas and a few per message."""
    text = json.dumps(body.get("tools") or "")
    for message in body.get("messages") or ():
        text += " " + str(message.get("content") or "")
        text += " " + json.dumps(message.get("tool_calls") or "")
    return len(_TOKEN.findall(text)) + 4 * len(body.get("messages") or ())


def why_invalid(body: dict) -> str:
    """Why llama.cpp would refuse this request ("" if it would not)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for message in messages:
        role = message.get("role")
        if role not in ("system", "user", "assistant", "tool"):
            return f"unknown role {role!r}"
        if not isinstance(message.get("content"), (str, list)):
            return "Expected 'content' to be a string or an array"
        if role == "tool" and not message.get("tool_call_id"):
            return "a tool message needs 'tool_call_id'"
    return ""


def calls_as_text(calls: Iterable[dict], style: str) -> str:
    """Tool calls written into the answer, as a model whose chat format ignores `tools` writes
    them: `style` "tool_call" (`<tool_call>{...}</tool_call>`) or "functions"
    (`functions.x: {...}`)."""
    written = []
    for call in calls:
        arguments = call.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        if style == "tool_call":
            payload = json.dumps({"name": call["name"], "arguments": json.loads(arguments)})
            written.append(f"<tool_call>\n{payload}\n</tool_call>")
        else:
            written.append(f"functions.{call['name']}: {arguments}")
    return "\n".join(written)
