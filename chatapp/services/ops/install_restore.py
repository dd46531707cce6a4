"""Restore an archive made by `backup.py` into an empty data directory (the app stopped).

Checked before anything is written: the file is a readable tar.gz whose first member is our
manifest, of a format this version understands, and every member stays inside the target
(tarfile's "data" filter: no absolute paths, links out or devices). The target directory must
be empty unless `force`. Then: SQLite -> `DATA_DIR/chatapp.db` (the default DATABASE_URL; set
DATABASE_URL to it if you use another path), PostgreSQL -> `pg_restore --clean` into the
configured DATABASE_URL; migrations bring an older archive up to this version; uploaded files'
stored paths are moved to the new data directory.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import select

from chatapp.core import migrations
from chatapp.core.db import build_engine, session_scope
from chatapp.services.knowledge.index import migrate_local_qdrant
from chatapp.services.models import Source
from chatapp.services.ops.install_backup import (
    FILE_DIRS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PG_FILE,
    SECRET_FILE,
    SQLITE_FILE,
    BackupError,
    _run,
    db_kind,
    libpq_url,
    pg_tool,
)

NOT_OURS = "{name} is not a Chatapp backup (made by `python -m chatapp backup create`)."


@dataclass(frozen=True)
class Restored:
    data_dir: Path
    database_url: str
    manifest: dict[str, Any]
    migrated_from: str | None


def read_manifest(archive: tarfile.TarFile, name: str) -> dict[str, Any]:
    try:
        member = archive.next()
        if member is None or member.name != MANIFEST:
            raise BackupError(NOT_OURS.format(name=name))
        manifest = json.loads(archive.extractfile(member).read())
    except (tarfile.TarError, OSError, EOFError, ValueError, AttributeError) as error:
        raise BackupError(f"{name} is damaged or not a backup archive ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(NOT_OURS.format(name=name))
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(f"{name} was made by a newer Chatapp: upgrade before restoring it.")
    return manifest


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        return tarfile.open(path, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{path.name} is damaged or not a backup archive ({error}).") from None


def _check_target(data_dir: Path, force: bool) -> None:
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise BackupError(
            f"{data_dir} is not empty: restore into an empty directory, or pass --force "
            "to replace what it holds."
        )


def _rebase_uploads(database_url: str, data_dir: Path) -> None:
    """Files' stored paths named the old data directory: point them at the new one."""
    engine = build_engine(database_url)
    try:
        with session_scope(engine) as session:
            for source in session.exec(select(Source).where(Source.kind == "file")):
                parts = Path((source.meta or {}).get("path", "")).parts
                if "uploads" not in parts:
                    continue
                at = len(parts) - 1 - parts[::-1].index("uploads")
                new_path = data_dir.joinpath("uploads", *parts[at + 1 :])
                source.meta = {**source.meta, "path": str(new_path)}
                session.add(source)
    finally:
        engine.dispose()


def restore_backup(
    archive_path: Path, *, data_dir: Path, database_url: str | None = None, force: bool = False
) -> Restored:
    """Unpack the archive into `data_dir` and its database into SQLite there (or into
    `database_url` for a PostgreSQL archive), then migrate it to this version."""
    data_dir = data_dir.resolve()
    with _open(archive_path) as archive:
        manifest = read_manifest(archive, archive_path.name)
        _check_target(data_dir, force)
        kind = manifest.get("database", {}).get("kind")
        if kind == "sqlite":
            database_url = f"sqlite:///{(data_dir / 'chatapp.db').as_posix()}"
        elif kind != "postgresql" or not database_url or db_kind(database_url) != "postgresql":
            raise BackupError(
                "This archive holds a PostgreSQL database: set DATABASE_URL to the (empty) "
                "PostgreSQL database to restore it into."
            )
        with tempfile.TemporaryDirectory(prefix="chatapp-restore-") as tmp:
            staging = Path(tmp)
            try:
                archive.extractall(staging, filter="data")
            except (tarfile.TarError, OSError, EOFError) as error:
                raise BackupError(f"{archive_path.name} is damaged ({error}).") from None
            _install(staging, data_dir, kind, database_url, force)
    migrated_from = migrations.current_revision(database_url)
    migrations.upgrade(database_url)
    _move_old_vectors(database_url, data_dir)
    _rebase_uploads(database_url, data_dir)
    return Restored(data_dir, database_url, manifest, migrated_from)


def _move_old_vectors(database_url: str, data_dir: Path) -> None:
    """An archive of a release that kept vectors in Qdrant's local mode: into the database."""
    if migrate_local_qdrant.has_local_store(data_dir / "qdrant"):
        engine = build_engine(database_url)
        try:
            migrate_local_qdrant.migrate_local_store(data_dir / "qdrant", engine)
        finally:
            engine.dispose()


def _install(staging: Path, data_dir: Path, kind: str, database_url: str, force: bool) -> None:
    member = staging / (SQLITE_FILE if kind == "sqlite" else PG_FILE)
    if not member.is_file():
        raise BackupError("The archive has no database in it: it is incomplete.")
    data_dir.mkdir(parents=True, exist_ok=True)
    if force:
        for name in (*FILE_DIRS, "qdrant", "chatapp.db-wal", "chatapp.db-shm"):
            target = data_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if kind == "sqlite":
        shutil.copy2(member, data_dir / "chatapp.db")
    else:
        _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={libpq_url(database_url)}",
                str(member),
            ],
            "pg_restore",
        )
    for name in (*FILE_DIRS, "qdrant"):
        if (staging / name).is_dir():
            shutil.copytree(staging / name, data_dir / name, dirs_exist_ok=True)
    if (staging / SECRET_FILE).is_file():
        shutil.copy2(staging / SECRET_FILE, data_dir / SECRET_FILE)
