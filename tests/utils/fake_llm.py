"""A real OpenAI-compatible chat-completions server on loopback, for tests and benchmarks.

It speaks HTTP/1.1 with keep-alive on asyncio (thousands of concurrent streams in one thread):
`POST /v1/chat/completions` with and without `stream` (SSE chunks, `[DONE]`, a usage chunk when
`stream_options.include_usage`). What it answers is configurable while it runs:

* `server.reply`: the answer text, or a function of the request body returning it;
* `server.token_delay`: seconds between streamed tokens (words); `server.first_delay`: before
  the response headers (a "hang" longer than the client's timeout makes it time out);
* `server.script`: behaviours for the next requests, consumed one per request: "ok", "500",
  "503", "429" (with `Retry-After: 0`), "401", "400", "drop" (close the connection without an
  answer), "break" (stream two tokens, then close mid-answer), "hang" (wait `hang_seconds`),
  "stream-error" (a 200 whose stream carries only an error object, as providers do when they
  fail after accepting), "garbage" (two tokens, then a chunk that is not JSON);
* `server.tool_calls`: tool calls to answer with instead of text, in the real wire format:
  a list of `{"name", "arguments"}` (arguments a dict or a JSON string), or a function of the
  request body returning one (or None / [] for a text answer). Streamed, each call arrives as
  `delta.tool_calls` chunks (index, id and name first, then the arguments in several pieces)
  and the stream ends with `finish_reason: "tool_calls"`; non-streamed, as
  `message.tool_calls` (never without `tools`, nor with `tool_choice: "none"`);
* `server.requests`: every request body received, in order (`server.auth_headers` their
  Authorization headers).

Strict behaviours of real servers (llama.cpp's above all), off by default; `server.strict()`
turns them all on:

* `validation_status`: a request that is not valid (a message whose `content` is null or not
  text, a tool message without `tool_call_id`, an unknown role) gets this status, as llama.cpp
  answers validation errors with 500 (which a client then retries);
* `context_size`: the model's window in tokens (counted here as words and punctuation marks,
  about what a real tokenizer gives). A longer prompt gets, streamed, 200 with an empty body
  (llama.cpp's behaviour) and, not streamed, 400; an answer reaching the window's end, or
  `max_tokens` when `cut_at_max_tokens`, stops there with `finish_reason: "length"`;
* `send_usage = False`: no usage chunk even when asked for one;
* `tools_as_text`: "functions" or "tool_call": `tools` are ignored, as chat formats without tool
  support do, and the configured tool calls come as text (`functions.name: {...}`,
  `<tool_call>{...}</tool_call>`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chatapp.core.config import reset_settings
from tests.utils import llm_rules

DEFAULT_REPLY = "Hello! This is the fake LLM answering."


class FakeLLMServer:
    def __init__(self) -> None:
        self.reply: str | Callable[[dict], str] = DEFAULT_REPLY
        self.tool_calls: list[dict] | Callable[[dict], list[dict] | None] | None = None
        self.token_delay = 0.0
        self.first_delay = 0.0
        self.hang_seconds = 30.0
        # "split": every event in two HTTP chunks cut mid-line; "together": all events of the
        # answer in one chunk at the end (a server far ahead of its reader)
        self.framing = "event"
        self.script: list[str] = []
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self.port = 0
        self.connections = 0  # TCP connections accepted: clients that keep theirs alive reuse one
        self.validation_status: int | None = None
        self.context_size: int | None = None
        self.cut_at_max_tokens = False
        self.send_usage = True
        self.tools_as_text = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=4096)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-llm", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is None:
            return

        def shutdown() -> None:
            self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(shutdown)
        self._thread.join(timeout=10)

    # -- behaviour ---------------------------------------------------------------------------

    def _next_mode(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"

    def strict(self, context_size: int = 2048, tools_as_text: str = "") -> FakeLLMServer:
        """Behave as llama.cpp's server does (see the module's docstring)."""
        self.validation_status = 500
        self.context_size = context_size
        self.cut_at_max_tokens = True
        self.send_usage = False
        self.tools_as_text = tools_as_text
        return self

    def prompt_size(self, body: dict) -> int:
        return llm_rules.prompt_tokens(body)

    def chat_requests(self, *, stream: bool | None = None) -> list[dict]:
        return [r for r in self.requests if stream is None or bool(r.get("stream")) == stream]

    def _answer(self, body: dict) -> str:
        return self.reply(body) if callable(self.reply) else self.reply

    def _calls(self, body: dict) -> list[dict]:
        """The tool calls to answer with, with ids and JSON-string arguments ([] for text).

        Like real servers, none without `tools` in the request or with `tool_choice: "none"`."""
        if not body.get("tools") or body.get("tool_choice") == "none" or self.tools_as_text:
            return []
        calls = self.tool_calls(body) if callable(self.tool_calls) else self.tool_calls
        wired = []
        for number, call in enumerate(calls or ()):
            arguments = call.get("arguments", {})
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            wired.append(
                {
                    "id": call.get("id") or f"call_{len(self.requests)}_{number}",
                    "type": "function",
                    "function": {"name": call["name"], "arguments": arguments},
                }
            )
        return wired

    def _calls_as_text(self, body: dict) -> str:
        calls = self.tool_calls(body) if callable(self.tool_calls) else self.tool_calls
        return llm_rules.calls_as_text(calls or (), self.tools_as_text)

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                raw = await reader.readexactly(length) if length else b""
                self.auth_headers.append(headers.get("authorization", ""))
                keep = await self._respond(method, path, raw, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server is stopping
            pass
        finally:
            writer.close()

    async def _send_json(self, writer, status: int, body: dict, extra: str = "") -> None:
        payload = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(
            status, "Error"
        )
        writer.write(
            (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n{extra}\r\n"
            ).encode()
            + payload
        )
        await writer.drain()

    async def _respond(self, method: str, path: str, raw: bytes, writer) -> bool:
        if method == "GET" and path.rstrip("/") == "/v1/models":  # what a deep health check asks
            model = {"id": "fake", "object": "model", "created": 0, "owned_by": "tests"}
            await self._send_json(writer, 200, {"object": "list", "data": [model]})
            return True
        if method != "POST" or path.rstrip("/") != "/v1/chat/completions":
            await self._send_json(writer, 404, {"error": {"message": "not found"}})
            return True
        body = json.loads(raw or b"{}")
        self.requests.append(body)
        mode = self._next_mode()
        if self.first_delay:
            await asyncio.sleep(self.first_delay)
        if mode == "drop":
            return False
        if mode == "hang":
            await asyncio.sleep(self.hang_seconds)
            return False
        if mode in ("500", "503", "429", "401", "400"):
            status = int(mode)
            extra = "Retry-After: 0\r\n" if status == 429 else ""
            error = {"message": f"fake error {status}", "type": "server_error", "code": None}
            await self._send_json(writer, status, {"error": error}, extra)
            return True
        if self.validation_status and llm_rules.why_invalid(body):
            error = {"message": llm_rules.why_invalid(body), "type": "server_error", "code": None}
            await self._send_json(writer, self.validation_status, {"error": error})
            return True
        room = None
        if self.context_size is not None:
            room = self.context_size - self.prompt_size(body)
            if room <= 0 and body.get("stream"):  # llama.cpp: 200, and nothing in the body
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                )
                await writer.drain()
                return True
            if room <= 0:
                error = {"message": "the request exceeds the available context size"}
                await self._send_json(writer, 400, {"error": error})
                return True
        if self.cut_at_max_tokens and body.get("max_tokens"):
            room = min(room or body["max_tokens"], body["max_tokens"])
        calls = self._calls(body)
        text = "" if calls else self._answer(body)
        if self.tools_as_text and body.get("tools"):
            text = self._calls_as_text(body) or text
        model = body.get("model", "fake")
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        pieces = re.findall(r"\S+\s*", text)
        finish = "tool_calls" if calls else "stop"
        if room is not None and len(pieces) > room:
            pieces, text, finish = pieces[:room], "".join(pieces[:room]), "length"
        completion_tokens = len(pieces) + sum(
            len(c["function"]["arguments"].split()) + 1 for c in calls
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if calls:
                message = {"role": "assistant", "content": None, "tool_calls": calls}
            choice = {"index": 0, "message": message, "finish_reason": finish}
            await self._send_json(
                writer,
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [choice],
                    "usage": usage,
                },
            )
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        )

        held: list[bytes] = []

        async def send_chunk(chunk: bytes) -> None:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()

        async def event(data: Any) -> None:
            text = data if isinstance(data, str) else json.dumps(data)
            chunk = f"data: {text}\n\n".encode()
            if self.framing == "together":
                held.append(chunk)
                if text == "[DONE]":
                    await send_chunk(b"".join(held))
            elif self.framing == "split":
                await send_chunk(chunk[: len(chunk) // 2])
                await send_chunk(chunk[len(chunk) // 2 :])
            else:
                await send_chunk(chunk)

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        if mode == "stream-error":
            await event({"error": {"message": "The model is overloaded.", "type": "server_error"}})
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        await event(chunk({"role": "assistant", "content": None if calls else ""}))
        for index, call in enumerate(calls):
            head = {"index": index, "id": call["id"], "type": "function"}
            head["function"] = {"name": call["function"]["name"], "arguments": ""}
            await event(chunk({"tool_calls": [head]}))
            arguments = call["function"]["arguments"]
            step = max(1, -(-len(arguments) // 3))  # three pieces, as providers split them
            for start in range(0, len(arguments), step):
                piece = {"index": index, "function": {"arguments": arguments[start : start + step]}}
                await event(chunk({"tool_calls": [piece]}))
        for number, piece in enumerate(pieces):
            if mode == "break" and number == 2:
                return False  # the connection drops mid-answer
            if mode == "garbage" and number == 2:
                await event("<html>502 Bad Gateway</html>")
            if self.token_delay and number:
                await asyncio.sleep(self.token_delay)
            await event(chunk({"content": piece}))
        await event(chunk({}, finish))
        if self.send_usage and (body.get("stream_options") or {}).get("include_usage"):
            await event(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            )
        await event("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


@contextmanager
def fake_llm_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def configured_fake_llm(monkeypatch, api_key: str = "sk-test-fake-llm-0001"):
    """A running fake server made the installation's LLM (OPENAI_BASE_URL and a key), with
    retries quick enough for tests."""
    with fake_llm_server() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", api_key)
        monkeypatch.setenv("LLM_RETRY_BASE_SECONDS", "0.01")
        reset_settings()
        yield server
