"""The operator's backup: one archive taken while messages are being written, consistent
(integrity check, every conversation's count equal to its stored messages), restored into a new
data directory where the bot answers the same question with the same citations; damaged and
foreign archives, and a non-empty target, are refused with a readable message.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest
from sqlmodel import func, select

from chatapp.core import migrations
from chatapp.core.config import get_settings, reset_settings
from chatapp.core.db import dispose_engines, session_scope
from chatapp.services.chat import conversations
from chatapp.services.knowledge.index.vector_index import close_indexes
from chatapp.services.models import Bot, Message
from chatapp.services.ops import install_backup, install_restore
from tests.utils.knowledge import ask, make_shop

ROOT = Path(__file__).resolve().parents[3]
QUESTION = "When are you open on Saturdays?"


class Writer(threading.Thread):
    """Stores visitor messages in a loop until stopped, like a busy widget."""

    def __init__(self, bot_id: int):
        super().__init__(daemon=True)
        self.bot_id, self.written = bot_id, 0
        self.started_writing, self.stop = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            while not self.stop.is_set():
                with session_scope() as session:
                    bot = session.get(Bot, self.bot_id)
                    chat_row = conversations.find_or_create(session, bot, "busy-visitor", "widget")
                    conversations.add_user_message(session, chat_row, f"m{self.written}", None)
                self.written += 1
                self.started_writing.set()
        except BaseException as error:  # reported by the test
            self.error = error
            self.started_writing.set()


@pytest.fixture
def shop_in_data_dir(isolated_settings):
    migrations.upgrade()
    return make_shop("a")


def archive_db(path: Path, tmp_path: Path) -> Path:
    with tarfile.open(path) as archive:
        archive.extract(install_backup.SQLITE_FILE, tmp_path / "check", filter="data")
    return tmp_path / "check" / install_backup.SQLITE_FILE


def test_backup_while_writing_then_restore_answers_the_same(
    shop_in_data_dir, tmp_path, monkeypatch
):
    before = ask(shop_in_data_dir, QUESTION)
    assert before.answered and before.sources
    writer = Writer(shop_in_data_dir.bot_id)
    writer.start()
    assert writer.started_writing.wait(30) and writer.error is None
    result = install_backup.create_backup(get_settings(), tmp_path / "out" / "site.tar.gz")
    written_during = writer.written
    writer.stop.set()
    writer.join(30)
    assert writer.error is None and written_during > 0

    assert result.path.stat().st_mode & 0o777 == 0o600
    manifest = result.manifest
    assert manifest["alembic_revision"] == migrations.head_revision()
    assert manifest["counts"]["chunks"] >= 3 and manifest["counts"]["sources"] == 3
    assert manifest["vectors"] == "in the database"
    copy = sqlite3.connect(archive_db(result.path, tmp_path))
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with_vectors = copy.execute("SELECT count(*) FROM knowledgechunk WHERE vector IS NOT NULL")
    assert with_vectors.fetchone()[0] == manifest["counts"]["chunks"]
    stored, counted = copy.execute(
        "SELECT (SELECT count(*) FROM message m WHERE m.conversation_id = c.id), c.message_count "
        "FROM conversation c WHERE c.session_id = 'busy-visitor'"
    ).fetchone()
    copy.close()
    assert stored == counted  # one snapshot: no message without its count, or the reverse
    assert 0 < stored <= writer.written

    target = tmp_path / "restored"
    done = install_restore.restore_backup(result.path, data_dir=target)
    assert done.database_url.endswith("restored/chatapp.db")
    close_indexes()
    dispose_engines()
    monkeypatch.setenv("DATA_DIR", str(target))
    reset_settings()
    after = ask(shop_in_data_dir, QUESTION)
    assert after.answer == before.answer
    assert [s["title"] for s in after.sources] == [s["title"] for s in before.sources]
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Message)).one() >= stored


def test_restore_refuses_a_non_empty_directory_unless_forced(shop_in_data_dir, tmp_path):
    result = install_backup.create_backup(get_settings(), tmp_path / "b.tar.gz")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(install_backup.BackupError, match=r"not empty.*--force"):
        install_restore.restore_backup(result.path, data_dir=target)
    assert not (target / "chatapp.db").exists()
    install_restore.restore_backup(result.path, data_dir=target, force=True)
    assert (target / "chatapp.db").is_file() and (target / "keep.txt").is_file()


def test_an_older_archive_is_migrated_on_restore(isolated_settings, tmp_path):
    migrations.upgrade(revision="0005")
    (isolated_settings / "secret_key").write_text("x" * 40)
    result = install_backup.create_backup(get_settings(), tmp_path / "old.tar.gz")
    assert result.manifest["alembic_revision"].startswith("0005")
    done = install_restore.restore_backup(result.path, data_dir=tmp_path / "new")
    assert done.migrated_from.startswith("0005")
    assert migrations.is_up_to_date(done.database_url)
    assert (tmp_path / "new" / "secret_key").read_text() == "x" * 40


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_damaged_and_foreign_archives_are_refused(shop_in_data_dir, tmp_path):
    good = install_backup.create_backup(get_settings(), tmp_path / "good.tar.gz").path
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not a gzip file at all")
    foreign = write_tar(tmp_path / "foreign.tar.gz", {"etc/passwd": b"root:x:0:0"})
    escape = {"format": install_backup.FORMAT, "format_version": 1, "database": {"kind": "sqlite"}}
    evil = write_tar(
        tmp_path / "evil.tar.gz",
        {install_backup.MANIFEST: json.dumps(escape).encode(), "../../outside.txt": b"x"},
    )
    for path, words in (
        (cut, "damaged"),
        (garbage, "damaged or not a backup"),
        (foreign, "not a Chatapp backup"),
        (evil, "damaged"),
    ):
        target = tmp_path / f"target-{path.stem}"
        with pytest.raises(install_backup.BackupError, match=words):
            install_restore.restore_backup(path, data_dir=target)
        assert not (target / "chatapp.db").exists()
    assert not (tmp_path / "outside.txt").exists()


def test_the_cli_says_what_is_wrong(isolated_settings, tmp_path):
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"nope")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatapp",
            "backup",
            "restore",
            str(garbage),
            "--data-dir",
            str(tmp_path / "t"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    assert "error: garbage.tar.gz is damaged or not a backup archive" in done.stderr
    assert "Traceback" not in done.stderr


def test_postgresql_backup_and_restore_into_another_database(tmp_path, monkeypatch):
    """pg_dump while the app's database is live, pg_restore into an empty database: same rows,
    same answer."""
    from tests.utils.databases import postgres_database

    with postgres_database() as source_url, postgres_database() as target_url:
        monkeypatch.setenv("DATABASE_URL", source_url)
        reset_settings()
        migrations.upgrade(source_url)
        shop_in_data_dir = make_shop("pg")
        before = ask(shop_in_data_dir, QUESTION)
        result = install_backup.create_backup(get_settings(), tmp_path / "pg.tar.gz")
        assert result.manifest["database"]["file"] == install_backup.PG_FILE
        close_indexes()
        dispose_engines()
        target_dir = tmp_path / "pg-restored"
        done = install_restore.restore_backup(
            result.path, data_dir=target_dir, database_url=target_url
        )
        assert migrations.is_up_to_date(done.database_url)
        monkeypatch.setenv("DATABASE_URL", target_url)
        monkeypatch.setenv("DATA_DIR", str(target_dir))
        reset_settings()
        assert install_backup.counts(target_url) == result.manifest["counts"]
        after = ask(shop_in_data_dir, QUESTION)
        assert after.answer == before.answer and after.sources
        close_indexes()
        dispose_engines()


def test_without_pg_dump_the_error_says_what_to_install(tmp_path, monkeypatch):
    from tests.utils.databases import postgres_database

    with postgres_database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        reset_settings()
        migrations.upgrade(url)
        monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without the PostgreSQL client tools
        with pytest.raises(
            install_backup.BackupError, match=r"pg_dump was not found.*postgresql-client"
        ):
            install_backup.create_backup(get_settings(), tmp_path / "x.tar.gz")
        assert not (tmp_path / "x.tar.gz").exists()
        dispose_engines()
