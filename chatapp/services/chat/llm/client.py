"""The LLM behind the chat: any OpenAI-compatible chat-completions server, streamed.

Built on the `openai` client (AsyncOpenAI, its own retries off) with:
* an explicit timeout (`LLM_TIMEOUT_SECONDS`, applied to connecting and to every read, so a
  server that stops sending mid-answer is noticed too);
* `LLM_ATTEMPTS` tries (default 3) with exponential backoff (`LLM_RETRY_BASE_SECONDS`, doubling,
  or the server's Retry-After up to 10 s) on connection errors, 429 and 5xx, but only before the
  first token: once text has reached the visitor, a failure ends the answer with an error;
* provider errors turned into `LLMError(code, message)`: the message is for visitors (no stack
  trace, no key, no provider text); the details go to the log;
* an empty answer (200, no text, no tool call: llama.cpp's reply to a prompt over its window)
  raised as `LLMError("llm_empty")`, never passed on; `finish_reason: "length"` marked as
  `usage.cut`; counts estimated when the server reports none (`usage.reported` False).

Tool calling: given `tools`, the streamed `delta.tool_calls` pieces are put together into
`ToolCall`s in the caller's `tool_calls` list (text still streams as it comes); the caller runs
them and asks again with the results (`actions/in_chat.py`). A retry starts the list afresh.

Clients are cached per event loop and provider, so connections are reused across requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import openai

from chatapp.core.config import Settings, get_settings
from chatapp.services.bots.providers import LLMConfig

log = logging.getLogger(__name__)

# The openai client of our pin runs on httpx2 (its fork of httpx); catch the errors of both.
try:
    import httpx2

    _TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx2.TimeoutException)
    _TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # an openai release on plain httpx
    _TIMEOUTS, _TRANSPORT_ERRORS = (httpx.TimeoutException,), (httpx.HTTPError,)

UNAVAILABLE = "The assistant is unavailable right now. Please try again in a moment."
TIMED_OUT = "The assistant took too long to answer. Please try again."
MISCONFIGURED = "The assistant is not set up correctly. Please contact the website owner."
INTERRUPTED = "The answer was interrupted. Please try again."
EMPTY = "The assistant could not write an answer this time. Please try again."
MAX_RETRY_AFTER = 10.0
MAX_LLM_CONNECTIONS = 10_000  # concurrent answers streaming from one provider, per process


class LLMError(Exception):
    """The LLM could not answer. `code` is for programs, `message` for visitors."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Usage:
    """What one answer cost, and how it ended.

    `reported`: the counts come from the server; False means they are our estimate (many local
    servers send no usage), so a bill or a chart can say "about". `cut`: the server stopped the
    answer at `max_tokens` or at the end of its window (`finish_reason: "length"`).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reported: bool = False
    cut: bool = False
    finish_reason: str = ""

    def estimate(self, messages: list[dict], answer: str, *, tools: list[dict] | None = None):
        """Fill the counts with estimates when the server reported none (else keep its own)."""
        if self.reported:
            return
        sent = "".join(str(m.get("content") or "") for m in messages)
        sent += "".join(json.dumps(m["tool_calls"]) for m in messages if m.get("tool_calls"))
        self.prompt_tokens = estimate_tokens(sent + (json.dumps(tools) if tools else ""))
        self.completion_tokens = estimate_tokens(answer)


@dataclass
class ToolCall:
    """One function call the model asked for; `arguments` is the JSON text it wrote."""

    id: str
    name: str
    arguments: str = ""

    def wire(self) -> dict:
        """As the assistant message of the next request carries it."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


def tool_call_message(calls: list[ToolCall]) -> dict:
    """The assistant turn that asked for `calls`, as the next request resends it. Its content is
    "" and never null: llama.cpp's server refuses `null` with a 500."""
    return {"role": "assistant", "content": "", "tool_calls": [c.wire() for c in calls]}


_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def client_for(config: LLMConfig) -> openai.AsyncOpenAI:
    """One AsyncOpenAI per event loop and provider (its connection pool belongs to the loop)."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    key = (config.base_url, config.api_key, config.timeout)
    client = per_loop.get(key)
    if client is None:
        client = openai.AsyncOpenAI(
            base_url=config.base_url or None,
            # Local servers (Ollama, vLLM, LM Studio) need no key; the client insists on one.
            api_key=config.api_key or "not-needed",
            timeout=config.timeout,
            max_retries=0,  # we retry ourselves, and only before the first token
            # The default pool (1,000 connections) would queue visitors past 1,000 open answers.
            http_client=openai.DefaultAsyncHttpxClient(
                limits=httpx.Limits(
                    max_connections=MAX_LLM_CONNECTIONS, max_keepalive_connections=200
                ),
                timeout=config.timeout,
            ),
        )
        per_loop[key] = client
    return client


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APITimeoutError):
        return False  # waiting a whole timeout again would keep the visitor waiting too long
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _delay(exc: Exception, attempt: int, base: float) -> float:
    delay = base * (2**attempt)
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            ms = response.headers.get("retry-after-ms")
            seconds = float(ms) / 1000 if ms else float(response.headers.get("retry-after", ""))
            delay = max(delay, min(seconds, MAX_RETRY_AFTER))
        except (TypeError, ValueError):
            pass
    return delay


def _as_llm_error(exc: Exception, config: LLMConfig) -> LLMError:
    where = config.base_url or "api.openai.com"
    if isinstance(exc, openai.APITimeoutError):
        log.warning("LLM %s timed out after %ss", where, config.timeout)
        return LLMError("llm_timeout", TIMED_OUT)
    if isinstance(exc, openai.APIStatusError) and not _retryable(exc):
        log.error("LLM %s refused the request (%s): %s", where, exc.status_code, exc.message)
        return LLMError("llm_config", MISCONFIGURED)
    log.warning("LLM %s failed: %s", where, exc)
    return LLMError("llm_unavailable", UNAVAILABLE)


def context_tokens(config: LLMConfig, settings: Settings | None = None) -> int:
    """The model's window: `LLM_CONTEXT_TOKENS_BY_MODEL` by model name, then by base URL, else
    `LLM_CONTEXT_TOKENS` (the workspace provider record has no column for it yet)."""
    settings = settings or get_settings()
    by_model = settings.llm_context_tokens_by_model
    for key in (config.model, config.base_url.rstrip("/")):
        if key and key in by_model:
            return by_model[key]
    return settings.llm_context_tokens


def estimate_tokens(text: str) -> int:
    """About 4 characters per token: for servers that report no usage (and offline)."""
    return max(1, round(len(text) / 4)) if text else 0


async def stream_chat(
    config: LLMConfig,
    messages: list[dict],
    *,
    usage: Usage,
    max_tokens: int,
    temperature: float | None = None,
    attempts: int = 3,
    retry_base: float = 0.5,
    tools: list[dict] | None = None,
    tool_choice: str | None = None,
    tool_calls: list[ToolCall] | None = None,
) -> AsyncIterator[str]:
    """Yield the answer's text pieces as they arrive; fill `usage` at the end, and with `tools`,
    the calls the model asked for into `tool_calls`."""
    client = client_for(config)
    started = False
    extra: dict = {"temperature": temperature} if temperature is not None else {}
    if tools:
        extra["tools"] = tools
        if tool_choice:
            extra["tool_choice"] = tool_choice
    for attempt in range(attempts):
        calls: dict[int, ToolCall] = {}
        usage.reported, usage.cut, usage.finish_reason = False, False, ""
        written: list[str] = []
        try:
            async with client.chat.completions.with_streaming_response.create(
                model=config.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=max_tokens,
                **extra,
            ) as response:
                async for text in _stream_text(response, usage, calls):
                    started = True
                    written.append(text)
                    yield text
            asked = [c for _, c in sorted(calls.items()) if c.name]
            if not started and not asked:
                # llama.cpp answers a prompt longer than its window with 200 and no body: never
                # pass that on as an (empty) answer. Not retried: the same prompt fails the same.
                log.warning("LLM %s sent an empty answer (%s)", config.base_url, usage)
                raise LLMError("llm_empty", EMPTY)
            if tool_calls is not None:
                tool_calls.extend(asked)
            answer = "".join(written) + "".join(c.arguments for c in asked)
            usage.estimate(messages, answer, tools=tools)
            return
        except openai.OpenAIError as exc:
            if started:
                log.warning("LLM stream broke after the first token: %s", exc)
                raise LLMError("llm_interrupted", INTERRUPTED) from exc
            if not _retryable(exc) or attempt + 1 == attempts:
                raise _as_llm_error(exc, config) from exc
            delay = _delay(exc, attempt, retry_base)
            log.info("LLM attempt %d failed (%s); retrying in %.2fs", attempt + 1, exc, delay)
            await asyncio.sleep(delay)


async def _stream_text(
    response, usage: Usage, calls: dict[int, ToolCall] | None = None
) -> AsyncIterator[str]:
    """The text of a chat-completions event stream, one piece per network read.

    Read as plain JSON: the client's typed stream builds a model object per chunk (~70 us each),
    which alone saturated the event loop at thousands of chunks a second. And batched: all the
    events that one read brings are joined into one piece, so when the server gets ahead of us
    (under load) each token no longer costs a relay of its own; unloaded, a read is one token.
    Network errors become the client's own exception types, so retries and messages stay the same.
    """
    pending = b""
    finished = False
    try:
        async for data in response.iter_bytes():
            if finished:
                continue  # read the body to its end: the connection then goes back to the pool
            pending += data
            *lines, pending = pending.split(b"\n")
            texts, finished = _read_events(lines, usage, calls)
            if texts:
                yield "".join(texts)
        if not finished:
            texts, _ = _read_events([pending], usage, calls)  # a last line without its newline
            if texts:
                yield "".join(texts)
    except _TIMEOUTS as exc:
        raise openai.APITimeoutError(request=response.http_request) from exc
    except _TRANSPORT_ERRORS as exc:
        raise openai.APIConnectionError(request=response.http_request) from exc
    except ValueError as exc:  # not JSON (or not UTF-8): a broken or foreign server
        raise openai.APIError(
            "unreadable stream chunk", request=response.http_request, body=None
        ) from exc
    except _StreamError as exc:
        raise openai.APIError(str(exc.body), request=response.http_request, body=exc.body) from None


class _StreamError(Exception):
    """The server put an error object in the stream."""

    def __init__(self, body: object):
        self.body = body


def _read_events(
    lines: list[bytes], usage: Usage, calls: dict[int, ToolCall] | None
) -> tuple[list[str], bool]:
    """The text pieces of complete `data:` lines, and whether `[DONE]` was among them."""
    texts: list[str] = []
    for line in lines:
        if not line.startswith(b"data:"):
            continue  # blank separators, comments, event names
        data = line[5:].strip()
        if data == b"[DONE]":
            return texts, True
        chunk = json.loads(data)
        if chunk.get("error"):
            raise _StreamError(chunk["error"])
        if chunk.get("usage"):
            usage.prompt_tokens = chunk["usage"].get("prompt_tokens") or 0
            usage.completion_tokens = chunk["usage"].get("completion_tokens") or 0
            usage.reported = True
        for choice in chunk.get("choices") or ():
            if choice.get("finish_reason"):
                usage.finish_reason = choice["finish_reason"]
                usage.cut = usage.cut or choice["finish_reason"] == "length"
            delta = choice.get("delta") or {}
            if calls is not None and delta.get("tool_calls"):
                _add_tool_call_pieces(calls, delta["tool_calls"])
            text = delta.get("content")
            if text:
                texts.append(text)
    return texts, False


def _add_tool_call_pieces(calls: dict[int, ToolCall], pieces: list[dict]) -> None:
    """Stream chunks carry each call in parts: id and name first, then arguments in pieces."""
    for piece in pieces:
        index = piece.get("index", 0)
        call = calls.setdefault(index, ToolCall(id="", name=""))
        if piece.get("id"):
            call.id = piece["id"]
        function = piece.get("function") or {}
        if function.get("name") and not call.name:
            call.name = function["name"]
        if function.get("arguments"):
            call.arguments += function["arguments"]


async def complete(
    config: LLMConfig, messages: list[dict], *, max_tokens: int, attempts: int = 1
) -> str:
    """A short non-streamed completion (used to condense follow-up questions)."""
    client = client_for(config)
    for attempt in range(attempts):
        try:
            response = await client.chat.completions.create(
                model=config.model, messages=messages, max_tokens=max_tokens
            )
            choice = response.choices[0] if response.choices else None
            return (choice.message.content or "").strip() if choice else ""
        except openai.OpenAIError as exc:
            if not _retryable(exc) or attempt + 1 == attempts:
                raise _as_llm_error(exc, config) from exc
            await asyncio.sleep(_delay(exc, attempt, 0.5))
    return ""
