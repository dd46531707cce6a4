"""The operator's backup: ONE archive (tar.gz) of everything an installation stores, taken while
the app runs. Restoring it is `ops/install_restore.py`.

What goes in, and how each part stays consistent with a running app:
* the database: SQLite through the online backup API (`sqlite3.Connection.backup`, a
  transactionally consistent copy, WAL included); PostgreSQL through `pg_dump --format=custom`
  (one snapshot), which must be on PATH;
* the vectors: the embedded default stores them in the database with their chunks (so they are
  in the same copy); with QDRANT_URL the server is backed up by its own snapshots, and is
  rebuilt from the database's vectors by `python -m chatapp vectors-copy` if need be;
* uploaded files and avatars, and the generated `secret_key` (it decrypts stored provider keys);
* `manifest.json`: format, app version, alembic revision, created_at, row counts.
The archive holds secrets and personal data: it is written mode 0600; keep it as such.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import select

from chatapp import __version__
from chatapp.core import migrations
from chatapp.core.config import Settings
from chatapp.core.db import get_engine, normalize_url, session_scope
from chatapp.core.errors import ServiceError
from chatapp.services.models import (
    Bot,
    Contact,
    Conversation,
    KnowledgeChunk,
    Message,
    Source,
    Workspace,
    utcnow,
)

FORMAT = "chatapp-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database/chatapp.db"
PG_FILE = "database/chatapp.pgdump"
FILE_DIRS = ("uploads", "avatars")  # under DATA_DIR, copied as they are
SECRET_FILE = "secret_key"
COUNTED = {
    "workspaces": Workspace,
    "bots": Bot,
    "sources": Source,
    "chunks": KnowledgeChunk,
    "conversations": Conversation,
    "messages": Message,
    "contacts": Contact,
}


class BackupError(ServiceError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    size_bytes: int


def db_kind(url: str) -> str:
    name = make_url(normalize_url(url)).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def sqlite_path(url: str) -> Path:
    database = make_url(normalize_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("The SQLite database is in memory: there is no file to back up.")
    return Path(database)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (readers and writers may keep working)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def libpq_url(url: str) -> str:
    """The URL as pg_dump / pg_restore read it (no SQLAlchemy driver suffix)."""
    return make_url(normalize_url(url)).set(drivername="postgresql").render_as_string(False)


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's major version."
        )
    return path


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[:500]}")


def dump_database(url: str, staging: Path) -> str:
    """The database into `staging`; returns the archive member written."""
    if db_kind(url) == "sqlite":
        source = sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"The database file {source} does not exist.")
        copy_sqlite(source, staging / SQLITE_FILE)
        return SQLITE_FILE
    target = staging / PG_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", libpq_url(url)],
        "pg_dump",
    )
    return PG_FILE


def counts(url: str) -> dict[str, int]:
    with session_scope(get_engine(url)) as session:
        return {
            name: session.exec(select(func.count()).select_from(model)).one()
            for name, model in COUNTED.items()
        }


def create_backup(settings: Settings, out: Path | None = None) -> BackupResult:
    """Write the archive (to `out`, or DATA_DIR/backups/chatapp-<UTC time>.tar.gz)."""
    url = settings.database_url
    created = utcnow()
    if out is None:
        out = settings.data_dir / "backups" / f"chatapp-{created:%Y%m%dT%H%M%SZ}.tar.gz"
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatapp-backup-") as tmp:
        staging = Path(tmp)
        database = dump_database(url, staging)
        for name in FILE_DIRS:
            folder = settings.data_dir / name
            if folder.is_dir():
                shutil.copytree(folder, staging / name)
        if (settings.data_dir / SECRET_FILE).is_file():
            shutil.copy2(settings.data_dir / SECRET_FILE, staging / SECRET_FILE)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": __version__,
            "alembic_revision": migrations.current_revision(url),
            "created_at": created.isoformat(timespec="seconds"),
            "database": {"kind": db_kind(url), "file": database},
            "vectors": "in the database" if not settings.qdrant_url else "server (and database)",
            "counts": counts(url),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(staging / MANIFEST, arcname=MANIFEST)  # first: cheap to check on restore
            for item in sorted(staging.iterdir()):
                if item.name != MANIFEST:
                    archive.add(item, arcname=item.name)
        partial.replace(out)  # never a half-written archive under the final name
    return BackupResult(path=out, manifest=manifest, size_bytes=out.stat().st_size)
