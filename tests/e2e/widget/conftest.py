"""The widget's browser tests: host pages on loopback, the public API with a stub LLM, Chromium.

The API (with /widget.js at its root, as the production build serves it) runs under granian on
127.0.0.1; host pages come from another origin (localhost). The stub LLM streams its answer word
by word with a delay, so streaming is observable. A widget that throws into a host page fails the
test that loaded it.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.axe import run_axe
from tests.utils.databases import require_or_skip
from tests.utils.fake_llm import FakeLLMServer, fake_llm_server
from tests.utils.widget_stack import ROOT, HostSite, api_server, build_widget, prepare

ANSWER = (
    "We are open **Monday to Friday** from 9am to 6pm [1].\n\n"
    "- Saturdays: 10am to 4pm\n- Sundays: closed\n\n"
    "Ask for `hours` at https://example.com/hours any time."
)


@dataclass
class Stack:
    api: str  # the API's (and widget's) origin
    site: HostSite
    llm: FakeLLMServer
    bots: dict
    data_dir: Path  # the API's data directory (its SQLite database is chatapp.db there)

    def tag(self, bot: str = "shop", key: str | None = None, **attrs: str) -> str:
        """The embed code for one of the prepared bots (extra data-* attributes as keywords)."""
        values = {
            "bot-id": self.bots[bot]["bot"],
            "key": self.bots[bot]["key"] if key is None else key,
            **{name.replace("_", "-"): value for name, value in attrs.items()},
        }
        data = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in values.items())
        return f'<script src="{self.api}/widget.js" {data} async></script>'

    def page(self, path: str, body: str, head: str = "", headers: dict | None = None) -> str:
        """Publish a host page; returns its URL."""
        document = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Host page {path}</title>{head}</head><body>{body}</body></html>"
        )
        return self.site.add(path, document, headers)


@pytest.fixture(scope="package")
def widget_stack(browser, tmp_path_factory):
    if shutil.which("node") is None:
        require_or_skip("Node.js is not installed (apt-get install -y nodejs npm)")
    if not (ROOT / "node_modules" / ".bin" / "esbuild").exists():
        require_or_skip("esbuild is not installed: run scripts/bootstrap.sh")
    build_widget()
    data_dir = tmp_path_factory.mktemp("widget-data")
    bots = prepare(data_dir)
    with fake_llm_server() as llm, api_server(data_dir, llm.base_url) as api, HostSite() as site:
        yield Stack(api, site, llm, bots, data_dir)


@pytest.fixture
def stack(widget_stack):
    """The session's stack with the stub LLM back to its default answer."""
    llm = widget_stack.llm
    llm.reply = ANSWER
    llm.token_delay = 0.005
    llm.first_delay = 0.0
    llm.script = []
    return widget_stack


def _new_page(browser, **options):
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    def console(msg) -> None:
        if "[chatapp]" in msg.text or "Content Security Policy" in msg.text:
            errors.append(msg.text)

    page.on("console", console)
    return context, page, errors


@pytest.fixture
def open_page(browser):
    """open_page(**context_options) -> a fresh page. The test fails if anything threw into the
    page, if the widget logged a warning (its own problems), or if the CSP blocked something."""
    made = []

    def make(**options):
        context, page, errors = _new_page(browser, **options)
        made.append((context, errors))
        page.problems = errors  # a test that expects a warning checks and removes it
        return page

    yield make
    problems = [e for _, errors in made for e in errors]
    for context, _ in made:
        context.close()
    assert not problems, "the page logged errors:\n" + "\n".join(problems)


def widget_state(page) -> dict:
    """What the widget stored for its bots in localStorage."""
    return page.evaluate(
        "() => Object.fromEntries(Object.keys(localStorage).filter(k => k.startsWith('chatapp:'))"
        ".map(k => [k, JSON.parse(localStorage.getItem(k))]))"
    )


__all__ = ["ANSWER", "Stack", "json", "run_axe", "widget_state"]
