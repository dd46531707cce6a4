"""bench/load_sessions.py runs end to end at a small size on PostgreSQL + Redis: every session
(config + first streamed message) succeeds and the bot's monthly counter equals the answers."""

import json
import subprocess
import sys
from pathlib import Path

from tests.utils.databases import postgres_database

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_load_run_has_no_errors_and_exact_quota_counts():
    with postgres_database():  # PostgreSQL must be up (an error in CI, a skip elsewhere)
        pass
    completed = subprocess.run(
        [sys.executable, "bench/load_sessions.py", "--sessions", "40", "--concurrency", "8"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0, result["error_examples"]
    assert result["answered"] == 40 and result["bot_message_count"] == 40
    assert result["quota_exact"] is True
    assert result["ttft_ms"]["p50"] > 0 and result["config_ms"]["p95"] > 0
