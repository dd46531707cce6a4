"""bench/routing.py runs end to end at a small size, offline and through the stub LLM (its
figures are printed by the script; here only their shape and sanity are checked, no timing)."""

import json
import subprocess
import sys
from pathlib import Path

from bench import routing as bench

ROOT = Path(__file__).resolve().parents[2]


def test_labelled_set_has_enough_messages_of_each_kind():
    rows = bench.load(None)
    assert len(rows) >= 120
    kinds = [len(r["bots"]) for r in rows]
    assert kinds.count(2) >= 15 and kinds.count(0) >= 10
    for label in bench.BOTS:
        assert sum(r["bots"] == [label] for r in rows) >= 25
    assert len({r["text"] for r in rows}) == len(rows)


def test_bench_offline_small_run(monkeypatch):
    # The bench sets DATA_DIR / DATABASE_URL itself: let monkeypatch restore them afterwards.
    for name in ("DATA_DIR", "DATABASE_URL", "INGEST_WORKER"):
        monkeypatch.setenv(name, "")
    result = bench.run(limit=25)
    assert result["messages"] == 25 and result["path"] == "offline"
    assert set(result["per_bot"]) == {"billing", "shipping", "technical"}
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["single_intent_accuracy"] >= 0.7  # far above chance (1/3)
    assert result["latency_ms"]["p50"] > 0
    assert len(result["mistakes"]) == round(25 * (1 - result["accuracy"]))


def test_bench_script_through_the_stub_llm_prints_one_json_object():
    completed = subprocess.run(
        [sys.executable, "bench/routing.py", "--stub", "--limit", "12"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["path"] == "stub-llm" and result["messages"] == 12
    assert result["llm_answers_used"] == 12  # every decision came from the model's JSON
    assert isinstance(result["mistakes"], int)
