"""The API under granian with two prepared workspaces (tenant_world), as the OpenAI-compatible
API's tests use it: an OpenAI SDK client for any key, and workspace A's owner for new bots."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from openai import OpenAI

from tests.utils.tenant_world import World
from tests.utils.widget_stack import ApiProcess, prepare


@dataclass
class Stack:
    base: str
    a: World
    b: World
    data_dir: Path

    def client(self, key: str, **options) -> OpenAI:
        """The official SDK with only its base URL and key changed."""
        return OpenAI(base_url=f"{self.base}/api/openai/v1", api_key=key, **options)

    def admin(self, method: str, path: str, **body) -> dict:
        """Workspace A's owner through the admin API."""
        url = f"{self.base}/api/v1/workspaces/{self.a.workspace_id}{path}"
        response = httpx.request(method, url, json=body or None, headers=self.a.bearer())
        assert response.status_code < 300, response.text
        return response.json()

    def new_bot(self, **fields) -> tuple[str, str]:
        """(public id, widget key) of a new bot of workspace A with these fields."""
        bot = self.admin("POST", "/bots", name=f"Bot {secrets.token_hex(3)}", **fields)
        key = self.admin("POST", f"/bots/{bot['id']}/keys")
        return bot["public_id"], key["key"]


@contextmanager
def openai_stack(data_dir: Path, llm_base_url: str, env: dict[str, str]) -> Iterator[Stack]:
    """Workspaces a and b prepared in `data_dir` (SQLite), the API served with `env` added and
    its LLM at `llm_base_url`."""
    a, b = (World(**w) for w in prepare(data_dir, "tests.utils.tenant_world"))
    server = ApiProcess(data_dir, llm_base_url=llm_base_url)
    server.env |= env
    try:
        yield Stack(server.start(), a, b, data_dir)
    finally:
        server.stop()
