"""axe-core (node_modules/axe-core, the version package.json pins) run inside a browser page: the
widget's tests and the dashboard's accessibility test share it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = IMPACTS[:2]
# Dialogs fade in and buttons fade their colours: axe measures contrast as drawn, so it waits
# until no animation with an end is running (spinners turn for ever and are left alone).
SETTLED = """() => document.getAnimations().every(
    a => a.playState !== "running" || a.effect.getComputedTiming().endTime === Infinity)"""


def axe_violations(page, context: str = "document") -> list[dict]:
    """Every violation axe finds in `context` (a JavaScript expression: the document, or one
    element such as an open dialog), shadow DOM included: rule id, impact and the nodes' CSS
    selectors. The script is added once per document (the dashboard navigates without reloads)."""
    page.wait_for_function(SETTLED)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        f"async () => (await axe.run({context}, {{resultTypes: ['violations']}})).violations"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],
        }
        for v in found
    ]


def blocking(violations: list[dict]) -> list[dict]:
    """The violations that fail a page: serious and critical ones."""
    return [v for v in violations if v["impact"] in BLOCKING]


def run_axe(page, context: str = "document") -> list[dict]:
    """axe-core's serious and critical violations on the page (shadow DOM included)."""
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": v["nodes"]}
        for v in blocking(axe_violations(page, context))
    ]


def impact_counts(violations: list[dict]) -> dict[str, int]:
    """How many rules fail at each impact (critical, serious, moderate, minor)."""
    counted = Counter(v["impact"] for v in violations)
    return {impact: counted.get(impact, 0) for impact in IMPACTS}
