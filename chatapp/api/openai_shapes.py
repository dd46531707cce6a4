"""OpenAI's chat completion request and response shapes, and how a request becomes our chat's.

What the OpenAI-compatible API takes from a request: `model` (a bot's public id), the last user
message (the question) and the earlier user and assistant turns (its history). `system` and
`developer` messages are ignored: the bot's own instructions and its "I don't know" rule stay in
charge, whoever holds a key. Sampling parameters are accepted and ignored (the bot's settings
answer); what would change the answer's kind (tools, n > 1, logprobs, JSON output, images) is
refused with 400. Our additions travel in one extra object, `chatapp`, which OpenAI's SDKs keep
as an unknown field (`completion.model_extra["chatapp"]`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatapp.api.openai_errors import OpenAIError, unsupported

MAX_MESSAGES = 256
MAX_CONTENT_CHARS = 100_000
SOURCE_FIELDS = ("n", "title", "url", "file", "page", "snippet", "source_id")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=40)
    text: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = Field(default=None, max_length=MAX_CONTENT_CHARS)
    tool_calls: list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    """OpenAI's request; fields it has and we do not use are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(max_length=64, description="The bot's public id (bot_...).")
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(
        default=None, max_length=256, description="Your end user's id: separates conversations."
    )
    session_id: str | None = Field(
        default=None,
        max_length=64,
        description="Chatapp: the conversation (8-64 of A-Z a-z 0-9 - _); derived if missing.",
    )
    n: int | None = Field(default=None, description="Only 1.")
    tools: list[dict[str, Any]] | None = Field(default=None, description="Not supported.")
    functions: list[dict[str, Any]] | None = Field(default=None, description="Not supported.")
    logprobs: bool | None = Field(default=None, description="Not supported.")
    top_logprobs: int | None = Field(default=None, description="Not supported.")
    response_format: dict[str, Any] | None = Field(default=None, description="Only text.")
    temperature: float | None = Field(default=None, description="Ignored: the bot's setting.")
    max_tokens: int | None = Field(default=None, description="Ignored: LLM_MAX_TOKENS.")


def check_supported(body: ChatCompletionIn) -> None:
    """Refuse what would need another kind of answer than the bot's one cited text."""
    if body.n not in (None, 1):
        raise unsupported("n", "Only one choice per request is supported (n = 1).")
    if body.tools or body.functions:
        param = "tools" if body.tools else "functions"
        raise unsupported(
            param, "Tools (function calling) are not supported: a bot runs its own actions."
        )
    if body.logprobs or body.top_logprobs:
        raise unsupported("logprobs", "Log probabilities are not supported.")
    kind = (body.response_format or {}).get("type", "text")
    if kind != "text":
        raise unsupported("response_format", "Only text answers are supported.")


def _text(message: MessageIn) -> str:
    if message.role in ("tool", "function") or message.tool_calls:
        raise unsupported(
            "messages", "Send user and assistant turns: tool messages are not supported."
        )
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    pieces = []
    for part in message.content:
        if part.type != "text":
            raise unsupported("messages", f"Only text content is supported, not {part.type[:40]}.")
        pieces.append(part.text or "")
    return "\n".join(pieces)


def conversation(
    messages: list[MessageIn], *, keep: int, max_chars: int
) -> tuple[str, tuple[tuple[str, str], ...], str]:
    """(question, history, first question) from the messages. System messages are dropped;
    the history is the last `keep` turns, each assistant turn cut to `max_chars` (our answers
    may be longer than a visitor's message may be); a user turn too long is refused later."""
    turns = [(m.role, _text(m)) for m in messages if m.role not in ("system", "developer")]
    if not turns or turns[-1][0] != "user":
        raise OpenAIError(
            400, "The last message must be the user's question (role user).", param="messages"
        )
    earlier = [(role, text) for role, text in turns[:-1] if text.strip()][-keep:] if keep else []
    history = tuple((r, t[:max_chars] if r == "assistant" else t) for r, t in earlier)
    return turns[-1][1], history, next(text for role, text in turns if role == "user")


def session_id_for(body: ChatCompletionIn, credential: str, first_question: str) -> str:
    """The conversation: `session_id` when given, else one derived from the credential, the
    `user` and the first question, so every request of one chat lands in one conversation."""
    if body.session_id:
        return body.session_id
    seed = "\0".join(("openai", credential, body.user or "", first_question))
    return "oai-" + hashlib.sha256(seed.encode()).hexdigest()[:40]


def new_completion_id() -> str:
    return "chatcmpl-" + secrets.token_urlsafe(18)


def extras(done: dict[str, Any], sources: list[dict], actions: list[dict]) -> dict[str, Any]:
    """The `chatapp` object: what an OpenAI response has no field for."""
    return {
        "answered": bool(done.get("answered")),
        "citations": [{k: s.get(k) for k in SOURCE_FIELDS} for s in sources],
        "actions": actions,
        "session_id": done.get("session_id"),
        "conversation_id": done.get("conversation_id"),
        "message_id": done.get("message_id"),
        "handled_by": done.get("handled_by", "bot"),
    }


def finish_reason(done: dict[str, Any]) -> str:
    return "length" if done.get("cut") else "stop"


def completion(
    model: str, text: str, done: dict[str, Any], sources: list[dict], actions: list[dict]
) -> dict[str, Any]:
    """A `chat.completion` object."""
    message = {"role": "assistant", "content": text, "refusal": None}
    return {
        "id": new_completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(done)}
        ],
        "usage": done.get("usage") or {},
        "system_fingerprint": None,
        "chatapp": extras(done, sources, actions),
    }


class ChunkWriter:
    """The `chat.completion.chunk` events of one streamed answer, as SSE `data:` lines."""

    def __init__(self, model: str, include_usage: bool):
        self.id, self.created = new_completion_id(), int(time.time())
        self.model, self.include_usage = model, include_usage

    def _chunk(self, choices: list[dict], **more: Any) -> str:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = None
        return data_line({**chunk, **more})

    def delta(self, delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return self._chunk([choice], **more)

    def usage(self, usage: dict[str, int]) -> str:
        return self._chunk([], usage=usage)


def data_line(payload: Any) -> str:
    body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {body}\n\n"


def error_line(code: str, message: str) -> str:
    """A failure after the stream began, as OpenAI streams it (the SDKs raise APIError)."""
    return data_line({"error": {"message": message, "type": "server_error", "code": code}})


DONE_LINE = "data: [DONE]\n\n"


class ModelOut(BaseModel):
    id: str = Field(description="The bot's public id: use it as `model`.")
    object: Literal["model"] = "model"
    created: int
    owned_by: str = Field(description="The workspace's slug.")
    chatapp: dict[str, Any] = Field(description="Chatapp: the bot's `name` and `active`.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]
