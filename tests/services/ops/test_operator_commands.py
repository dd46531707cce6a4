"""Operator commands (`python -m chatapp ...`) as an operator types them: what they print and
what they leave behind."""

from __future__ import annotations

import pytest

from chatapp import cli
from chatapp.core.db import session_scope
from chatapp.services.accounts import auth
from tests.utils.factories import make_user

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
