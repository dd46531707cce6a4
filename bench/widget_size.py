"""The widget's weight and speed: gzipped sizes of the launcher and of everything, and the time from
inserting the script tag to the bubble on screen (and from a click to the open panel) in Chromium.

Builds the widget (node widget/build.mjs), serves the real public API with /widget.js at its root
(granian, a prepared bot; tests/utils/widget_stack.py) and a host page from another loopback
origin, then loads the page in a fresh browser context (cold cache) `--runs` times.

Usage: .venv/bin/python bench/widget_size.py [--runs 20]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.utils.widget_stack import (  # noqa: E402
    ASSETS,
    HostSite,
    api_server,
    build_widget,
    prepare,
)

BUDGET = {"launcher_gzip_bytes": 8 * 1024, "total_gzip_bytes": 25 * 1024}
# Measured for the anchors (see /work/shared/anchors.md): gzipped bytes of their widgets.
OTHERS = {"anythingllm_gzip_kb": 214, "flowise_gzip_kb": 284}

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title></head>
<body><main><h1>A shop</h1><p>Some content.</p></main>
<script>
window.__t = {};
new MutationObserver((records, observer) => {
  const host = document.querySelector('chatapp-widget');
  if (host && host.shadowRoot && host.shadowRoot.querySelector('.l')) {
    window.__t.dom = performance.now();
    requestAnimationFrame(() => { window.__t.frame = performance.now(); });
    observer.disconnect();
  }
}).observe(document.body, {childList: true});
window.__t.start = performance.now();
const s = document.createElement('script');
s.src = %(src)s; s.async = true; s.dataset.botId = %(bot)s; s.dataset.key = %(key)s;
document.body.appendChild(s);
</script></body></html>"""

OPEN_PANEL = """() => new Promise(resolve => {
  const root = document.querySelector('chatapp-widget').shadowRoot;
  const start = performance.now();
  new MutationObserver((records, observer) => {
    if (root.querySelector('.p.open')) {
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - start));
    }
  }).observe(root, {subtree: true, childList: true, attributes: true});
  root.querySelector('.l').click();
})"""


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
    }


def sizes() -> dict:
    launcher = (ASSETS / "widget.js").read_bytes()
    panel = (ASSETS / "widget-panel.js").read_bytes()
    result = {
        "launcher_bytes": len(launcher),
        "panel_bytes": len(panel),
        "launcher_gzip_bytes": len(gzip.compress(launcher, 9)),
        "panel_gzip_bytes": len(gzip.compress(panel, 9)),
    }
    result["total_gzip_bytes"] = result["launcher_gzip_bytes"] + result["panel_gzip_bytes"]
    result["within_budget"] = all(result[name] <= limit for name, limit in BUDGET.items())
    return result


def load_times(runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    data_dir = Path(tempfile.mkdtemp(prefix="bench-widget-")) / "data"
    bots = prepare(data_dir)
    shop = bots["shop"]
    # The bubble and the panel need no LLM: a closed port stands in for one.
    with api_server(data_dir, "http://127.0.0.1:9/v1") as api, HostSite() as site:
        src = f"{api}/widget.js"
        url = site.add(
            "/",
            PAGE % {k: json.dumps(v) for k, v in {"src": src, **shop}.items()},
        )
        to_bubble, to_dom, script_ms, config_ms, first_open = [], [], [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            version = browser.version
            for _ in range(runs + 1):  # the first run warms up the server and the browser
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(url)
                page.wait_for_function("window.__t.frame !== undefined", timeout=30_000)
                t = page.evaluate("window.__t")
                entries = page.evaluate(
                    "() => performance.getEntriesByType('resource').map(e => "
                    "({name: e.name, start: e.startTime, end: e.responseEnd}))"
                )
                opened = page.evaluate(OPEN_PANEL)
                context.close()
                to_bubble.append(t["frame"] - t["start"])
                to_dom.append(t["dom"] - t["start"])
                first_open.append(opened)
                for entry in entries:
                    if entry["name"] == src:
                        script_ms.append(entry["end"] - t["start"])
                    elif "/config" in entry["name"]:
                        config_ms.append(entry["end"] - entry["start"])
            browser.close()
    # drop the warm-up run
    series = [to_bubble, to_dom, script_ms, config_ms, first_open]
    to_bubble, to_dom, script_ms, config_ms, first_open = (s[1:] for s in series)
    return {
        "runs": runs,
        "chromium": version,
        "script_tag_to_bubble_painted_ms": summary(to_bubble),
        "script_tag_to_bubble_in_dom_ms": summary(to_dom),
        "of_which_widget_js_loaded_ms": summary(script_ms),
        "of_which_config_fetch_ms": summary(config_ms),
        "click_to_panel_open_first_time_ms": summary(first_open),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    build_widget()
    print(
        json.dumps(
            {
                "sizes": sizes(),
                "budget": BUDGET,
                "others": OTHERS,
                "load": load_times(args.runs),
                "page": "loopback host page (localhost) + API and widget on 127.0.0.1, cold cache",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
