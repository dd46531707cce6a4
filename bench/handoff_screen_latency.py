"""Time from an agent's send to the text on the visitor's screen, in Chromium, over loopback.

Prepares the live bot (tests/utils/live_stack.py), serves the real API (granian, offline) and a
host page, opens the widget, presses "Talk to a person" and takes the conversation through the
agents' inbox API. Then, `--sends` times: note the clock, POST the agent's message (a unique
text), and let a MutationObserver in the page note the moment the text is in the widget's
shadow DOM. Both clocks are this machine's wall clock (the page's performance.timeOrigin + now()).

Usage: .venv/bin/python bench/handoff_screen_latency.py [--sends 100]
Prints one JSON object (ms): p50, p95, max, mean of send -> screen, and of the POST alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.utils.live_stack import prepare_live  # noqa: E402
from tests.utils.widget_stack import ApiProcess, HostSite, build_widget  # noqa: E402

INBOX = "/api/v1/workspaces/{ws}/inbox/{conversation}/{action}"  # the agents' routes
WATCH = """() => {
  window.__seen = {};
  const root = document.querySelector('chatapp-widget').shadowRoot;
  new MutationObserver(() => {
    for (const b of root.querySelectorAll('.m.g .b')) {
      const text = b.textContent;
      if (!(text in window.__seen)) {
        window.__seen[text] = performance.timeOrigin + performance.now();
      }
    }
  }).observe(root, {childList: true, subtree: true, characterData: true});
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=100)
    args = parser.parse_args()
    build_widget()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        bot = prepare_live(data_dir)
        server = ApiProcess(data_dir, llm_base_url=None)
        api = server.start()
        headers = {"Authorization": f"Bearer {bot['token']}"}
        try:
            with HostSite() as site, sync_playwright() as pw, httpx.Client(timeout=10) as client:
                tag = (
                    f'<script src="{api}/widget.js" data-bot-id="{bot["bot"]}" '
                    f'data-key="{bot["key"]}" async></script>'
                )
                url = site.add("/", f"<!doctype html><html><body>{tag}</body></html>")
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(url)
                page.locator("chatapp-widget .l").click()
                with page.expect_response("**/api/public/handoff") as reply:
                    page.get_by_role("button", name="Talk to a person").click()
                conversation = reply.value.json()["conversation_id"]

                def agent(action: str, **body) -> None:
                    ws = bot["workspace"]
                    path = INBOX.format(ws=ws, conversation=conversation, action=action)
                    client.post(api + path, json=body or None, headers=headers).raise_for_status()

                agent("take")
                page.locator("chatapp-widget .m.sy").filter(has_text="joined").wait_for()
                page.evaluate(WATCH)
                screen, post = [], []
                for n in range(args.sends):
                    text = f"agent reply {n}"
                    started = time.time() * 1000
                    agent("messages", content=text)
                    post.append(time.time() * 1000 - started)
                    page.wait_for_function(f"() => {json.dumps(text)} in window.__seen")
                    seen = page.evaluate(f"() => window.__seen[{json.dumps(text)}]")
                    screen.append(seen - started)
                browser.close()
        finally:
            server.stop()
    stats = {
        "sends": args.sends,
        "send_to_screen_ms": {
            "p50": round(percentile(screen, 0.5), 1),
            "p95": round(percentile(screen, 0.95), 1),
            "max": round(max(screen), 1),
            "mean": round(statistics.mean(screen), 1),
        },
        "agent_post_ms": {
            "p50": round(percentile(post, 0.5), 1),
            "p95": round(percentile(post, 0.95), 1),
        },
    }
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
