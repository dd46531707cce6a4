"""Idle memory of the whole app after one chat (issue 16): the production build
(`reflex run --env prod --single-port`, SQLite, the local embedding model), a small bot (the shop
of tests/utils/knowledge.py), one visitor's question answered offline through `/api/chat`, then
the memory of every process of the app summed, once the app is idle: PSS (each shared page
counted once, split among the processes sharing it: the app's server is forked from the
`reflex run` process and shares much of it) and, beside it, the plain sum of RSS (shared pages
counted in every process).

The app's processes are found by their environment (each has this run's DATA_DIR).
`--root DIR` measures another checkout (the release before a change, in a worktree), so two
runs one after the other compare them on one machine.

Usage: .venv/bin/python bench/app_memory.py [--root DIR]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dashboard_load import running_app  # noqa: E402

TARGET_MB = 600
IDLE_SECONDS = 10.0


def _kib(path: Path, field: str) -> float:
    return next(
        int(line.split()[1])
        for line in path.read_text().splitlines()
        if line.startswith(field + ":")
    )


def processes_of(data_dir: Path) -> dict[int, tuple[str, float, float]]:
    """pid -> (command, RSS MB, PSS MB) of the processes whose environment names `data_dir`."""
    found: dict[int, tuple[str, float, float]] = {}
    marker = f"DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            rss = _kib(entry / "status", "VmRSS") / 1024
            pss = _kib(entry / "smaps_rollup", "Pss") / 1024
        except (OSError, StopIteration):
            continue
        found[int(entry.name)] = (command.strip(), rss, pss)
    return found


def prepare(data_dir: Path, url: str) -> dict:
    os.environ.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=url,
        INGEST_WORKER="false",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_ROUNDS="1",
    )
    from chatapp.core import migrations
    from chatapp.core.db import dispose_engines
    from chatapp.services.knowledge.index.vector_index import close_indexes
    from tests.utils.knowledge import make_shop

    migrations.upgrade(url)
    shop = make_shop("memory")
    close_indexes()
    dispose_engines()
    return {"bot_id": shop.public_id, "key": shop.key}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app runs")
    args = parser.parse_args()
    import httpx

    data_dir = Path(tempfile.mkdtemp(prefix="bench-memory-")) / "data"
    data_dir.mkdir(parents=True)
    url = f"sqlite:///{data_dir / 'chatapp.db'}"
    bot = prepare(data_dir, url)
    with running_app(data_dir, url, root=args.root) as base:
        body = {
            "bot_id": bot["bot_id"],
            "api_key": bot["key"],
            "session_id": "memory-visitor",
            "message": "Can I return an item?",
            "stream": False,
        }
        answer = httpx.post(f"{base}/api/chat", json=body, timeout=120)
        answer.raise_for_status()
        time.sleep(IDLE_SECONDS)  # the bench's clock: idle, then measured
        processes = processes_of(data_dir)
    rss_total = sum(rss for _command, rss, _pss in processes.values())
    pss_total = sum(pss for _command, _rss, pss in processes.values())
    print(
        json.dumps(
            {
                "root": str(args.root),
                "target_mb": TARGET_MB,
                "idle_pss_mb": round(pss_total),
                "idle_rss_sum_mb": round(rss_total),
                "answered": bool(answer.json().get("answer")),
                "processes": {
                    str(pid): [c, round(r), round(p)] for pid, (c, r, p) in processes.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
