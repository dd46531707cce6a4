"""`./scripts/run.sh` leaves a clone as it found it: `git status` shows nothing after a first run.

The test copies the tracked files of this tree into a fresh repository and runs run.sh's steps
there: bootstrap (its installs already present), check-config, migrate, create-admin, then
`reflex compile` in place of `reflex run`. Compiling is the part of `reflex run` that writes
outside `.web/` and `data/`: it renders `.web/package.json`, installs the frontend with bun and
copies `package.json` and `bun.lock` back into the tracked `reflex.lock/`. Serving the build
(minutes) writes nothing more to the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.utils.databases import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
RUN_STEPS = (
    "source scripts/env.sh"
    " && scripts/bootstrap.sh --dev"
    " && python -m chatapp check-config"
    " && python -m chatapp migrate"
    " && python -m chatapp create-admin"
    " && reflex compile"
)


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _fresh_clone(target: Path) -> Path:
    """The tracked files as they are in this tree, committed in a repository of their own, with
    this tree's virtualenv and npm packages linked in (as bootstrap would have made them)."""
    for name in _git("ls-files", "-z", cwd=ROOT).split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git("init", "-q", cwd=target)
    _git("add", "-A", cwd=target)
    _git(
        "-c",
        "user.name=test",
        "-c",
        "user.email=test@example.com",
        "commit",
        "-qm",
        "clone",
        cwd=target,
    )
    for name in (".venv", "node_modules"):
        (target / name).symlink_to((ROOT / name).resolve())
    return target


def test_a_first_run_leaves_git_status_clean(tmp_path):
    if not (ROOT / "node_modules" / ".bin" / "bun").exists():
        require_or_skip("bun is not installed: run scripts/bootstrap.sh")
    clone = _fresh_clone(tmp_path / "clone")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DATA_DIR", "VIRTUAL_ENV")
    }
    env.update(ADMIN_PASSWORD="a long demo password", CHATAPP_ENV="development")
    done = subprocess.run(
        ["bash", "-c", RUN_STEPS], cwd=clone, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _git("status", "--porcelain", cwd=clone) == ""
