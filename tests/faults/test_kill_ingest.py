"""SIGKILL while the worker (in the API process) indexes a big text source, then restart: nothing
of the half-ingested source was searchable, and the source ends `ready` with exactly its chunks,
each with its vector: no duplicate rows, no rows without vectors."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.faults.stack import ROOT, FaultApi, Store, prepare, wait_for
from tests.utils import widget_stack

CHARS = 80_000  # ~90 chunks: three embedding batches, killed after the first
STALE = 3  # INGEST_STALE_SECONDS: how soon the restarted worker takes the source back
ENV = {"MAX_TEXT_CHARS": str(CHARS + 1000), "INGEST_STALE_SECONDS": str(STALE)}


def big_text() -> str:
    paragraphs, n = [], 0
    while sum(map(len, paragraphs)) < CHARS:
        n += 1
        paragraphs.append(
            f"Product {n} manual\n\nThe model {n} kettle holds {n % 7 + 1} litres and boils in "
            f"{n % 5 + 2} minutes. Its warranty covers {n % 3 + 1} years of normal use; descale "
            f"it every {n % 9 + 2} weeks with citric acid. Spare lids for series {n} ship from "
            f"warehouse {n % 11} within {n % 4 + 1} days, and the base plate fits models "
            f"{n - 1} to {n + 1}."
        )
    return "\n\n".join(paragraphs)[:CHARS]


def queue_source(data_dir) -> dict:
    """Queue the big text in a child process (this one keeps its own settings)."""
    code = (
        "import json, sys\n"
        "from chatapp.services.knowledge import sources\n"
        "from chatapp.core.db import session_scope\n"
        "from tests.utils.factories import make_tenant\n"
        "with session_scope() as s:\n"
        "    t = make_tenant(s, 'big')\n"
        "    src = sources.add_text(s, t.owner, t.bot.id, title='Manuals', text=sys.stdin.read())\n"
        "    print(json.dumps({'source': src.id, 'bot': t.bot.id, 'workspace': t.workspace.id}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=big_text(),
        cwd=ROOT,
        env=widget_stack._test_env(data_dir) | ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sigkill_during_ingestion_then_restart(tmp_path):
    data_dir = tmp_path / "data"
    prepare(data_dir)
    ids = queue_source(data_dir)
    store = Store.sqlite(data_dir)
    state = lambda: store.rows(  # noqa: E731
        "SELECT status, progress, attempts, chunk_count FROM source WHERE id = :i", i=ids["source"]
    )[0]
    rows = lambda: store.scalar(  # noqa: E731
        "SELECT count(*) FROM knowledgechunk WHERE source_id = :i", i=ids["source"]
    )

    api = FaultApi(data_dir, env=ENV, ingest=True)
    api.start()
    try:
        # mid-embedding: the rows and their vectors are written together at the end
        wait_for(lambda: state()[0] == "processing" and state()[1] >= 0.2, 120, "embedding")
        api.kill()
        status, progress, attempts, _ = state()
        killed_rows = rows()
        print(f"\nkilled at progress {progress:.2f} with {killed_rows} chunk rows")
        assert status == "processing" and killed_rows == 0 and 0.2 <= progress < 0.9

        restarted = time.monotonic()
        api.start()
        wait_for(lambda: state()[0] in ("ready", "error"), 180, "the source to finish")
        recovered = time.monotonic() - restarted
    finally:
        api.stop()
    status, progress, attempts, chunk_count = state()
    print(f"ready {recovered:.1f} s after the restart (attempt {attempts})")
    assert (status, attempts) == ("ready", 2)
    assert chunk_count > 30 and rows() == chunk_count
    positions = store.rows(
        "SELECT position FROM knowledgechunk WHERE source_id = :i ORDER BY position",
        i=ids["source"],
    )
    assert [p for (p,) in positions] == list(range(chunk_count))  # each chunk once, none missing
    with_vectors = store.scalar(
        "SELECT count(*) FROM knowledgechunk WHERE source_id = :i AND vector IS NOT NULL",
        i=ids["source"],
    )
    store.close()
    assert with_vectors == chunk_count
