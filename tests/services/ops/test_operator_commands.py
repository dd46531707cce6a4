"""Operator commands (`python -m chatapp ...`) as an operator types them: what they print and
what they leave behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatapp import cli
from chatapp.core import migrations
from chatapp.core.config import get_settings, reset_settings
from chatapp.core.db import dispose_engines, session_scope
from chatapp.services.accounts import auth
from chatapp.services.knowledge.index.vector_index import close_indexes
from chatapp.services.ops import install_backup
from tests.utils.factories import make_user
from tests.utils.knowledge import ask, make_shop

ROOT = Path(__file__).resolve().parents[3]

CHOSEN = "a-Chosen-passw0rd-for-ana"


def test_reset_password_never_prints_a_password_the_operator_chose(
    database_url, capsys, monkeypatch
):
    with session_scope() as session:
        make_user(session, "ana@example.com")
    assert cli.main(["reset-password", "ana@example.com", "--password", CHOSEN]) == 0
    out = capsys.readouterr().out
    assert CHOSEN not in out and "ana@example.com" in out, out
    with session_scope() as session:
        assert auth.login(session, email="ana@example.com", password=CHOSEN)

    monkeypatch.setenv("ADMIN_PASSWORD", CHOSEN + "-2")
    assert cli.main(["reset-password", "ana@example.com"]) == 0
    assert CHOSEN + "-2" not in capsys.readouterr().out

    monkeypatch.delenv("ADMIN_PASSWORD")
    assert cli.main(["reset-password", "ana@example.com"]) == 0
    generated = capsys.readouterr().out.split("password: ", 1)[1].split()[0]  # shown once: no one
    with session_scope() as session:  # else knows it
        assert auth.login(session, email="ana@example.com", password=generated)


def test_reset_password_of_an_unknown_user_says_so(database_url, capsys):
    assert cli.main(["reset-password", "nobody@example.com", "--password", CHOSEN]) == 2
    captured = capsys.readouterr()
    assert "No user with this email" in captured.err and CHOSEN not in captured.out + captured.err


@pytest.fixture(autouse=True)
def _no_admin_password(monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)


def test_the_documented_recovery_rm_rf_data_then_restore_works_as_written(
    isolated_settings, tmp_path
):
    """`rm -rf data && python -m chatapp backup restore FILE` in development mode: the command
    made a new data/secret_key before checking that data/ was empty, then refused it."""
    migrations.upgrade()
    shop = make_shop("r")
    before = ask(shop, "When are you open on Saturdays?")
    archive = install_backup.create_backup(get_settings(), tmp_path / "site.tar.gz").path
    secret = (isolated_settings / "secret_key").read_text()
    close_indexes()
    dispose_engines()
    shutil.rmtree(isolated_settings)  # rm -rf data

    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "DATABASE_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "chatapp", "backup", "restore", str(archive)],
        cwd=tmp_path,  # the default DATA_DIR is ./data: the folder just removed
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Restored the backup" in done.stdout
    assert (isolated_settings / "secret_key").read_text() == secret  # the archive's, not a new one
    reset_settings()
    after = ask(shop, "When are you open on Saturdays?")
    assert after.answer == before.answer and after.sources


def test_restore_into_another_directory_writes_nothing_into_data_dir(isolated_settings, tmp_path):
    migrations.upgrade()
    make_shop("s")
    archive = install_backup.create_backup(get_settings(), tmp_path / "s.tar.gz").path
    dispose_engines()
    shutil.rmtree(isolated_settings)
    reset_settings()
    target = tmp_path / "elsewhere"
    assert cli.main(["backup", "restore", str(archive), "--data-dir", str(target)]) == 0
    assert (target / "chatapp.db").is_file()
    assert not isolated_settings.exists()  # no stray secret_key made in the configured DATA_DIR
