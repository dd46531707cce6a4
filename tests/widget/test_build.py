"""The widget's build: two bundles within the size budget, and a source that never parses HTML."""

from __future__ import annotations

import gzip
import re
import shutil

import pytest

from tests.utils.databases import require_or_skip
from tests.utils.widget_stack import ASSETS, ROOT, build_widget

SOURCE = ROOT / "widget" / "src"
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"createContextualFragment|DOMParser|setAttribute\(\s*['\"]style"
)


@pytest.fixture(scope="module")
def built():
    if shutil.which("node") is None or not (ROOT / "node_modules" / ".bin" / "esbuild").exists():
        require_or_skip("Node.js and esbuild are needed: run scripts/bootstrap.sh")
    return build_widget()


def test_bundles_fit_the_budget(built):
    launcher = (ASSETS / "widget.js").read_bytes()
    panel = (ASSETS / "widget-panel.js").read_bytes()
    assert len(gzip.compress(launcher, 9)) <= 8 * 1024
    assert len(gzip.compress(launcher, 9)) + len(gzip.compress(panel, 9)) <= 25 * 1024
    assert "gzipped" in built  # the build reports its sizes
    # One IIFE each, no module syntax left, and the launcher names the panel it loads.
    for bundle in (launcher, panel):
        text = bundle.decode()
        assert text.startswith("(()=>{") and not re.search(r"^\s*(import|export)\s", text, re.M)
    assert re.search(rb"widget-panel\.js\?v=[0-9a-f]{10}", launcher)


def test_the_source_never_turns_text_into_html():
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(SOURCE.glob("*.js"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if HTML_SINKS.search(line)
    ]
    assert offenders == []
