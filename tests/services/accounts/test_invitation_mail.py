"""Invitation emails through a real SMTP server on loopback (tests/utils/smtp_server.py): sent
with login and STARTTLS when configured; a failure is reported, and the invitation stays."""

from __future__ import annotations

import socket

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.accounts import invitations
from tests.utils.factories import make_tenant
from tests.utils.smtp_server import SmtpServer, make_certificate

LOGIN = ("mailer@example.com", "smtp secret")


@pytest.fixture
def owner(sqlite_url):
    with session_scope() as session:
        return make_tenant(session, "m").owner


def configure(monkeypatch, port: int, **extra: str) -> None:
    settings = {
        "SMTP_HOST": "localhost",
        "SMTP_PORT": str(port),
        "SMTP_FROM": "team@shop.example",
        "SMTP_STARTTLS": "false",
        **extra,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_settings()


def invite(owner, email: str = "ana@example.com") -> invitations.NewInvitation:
    with session_scope() as session:
        return invitations.create_invitation(
            session, owner, role="agent", email=email, base_url="https://chat.shop.example"
        )


def pending_emails(owner) -> list[str]:
    with session_scope() as session:
        return [view.email for view in invitations.list_invitations(session, owner)]


def test_the_link_is_mailed_over_starttls_with_login(owner, monkeypatch, tmp_path):
    certificate = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's own CA
    with SmtpServer(certificate, credentials=LOGIN) as smtp:
        configure(
            monkeypatch,
            smtp.port,
            SMTP_STARTTLS="true",
            SMTP_USER=LOGIN[0],
            SMTP_PASSWORD=LOGIN[1],
        )
        new = invite(owner)
        delivery = invitations.send_invitation(new)
        assert delivery == invitations.Delivery("sent")
        (mail,) = smtp.messages
    assert mail.tls and mail.login == LOGIN
    assert mail.recipients == ["ana@example.com"] and mail.sender == "team@shop.example"
    assert mail.message["Subject"] == "You are invited to Workspace m on Chatapp"
    body = mail.message.get_payload(decode=True).decode()
    assert new.url in body and new.url.startswith("https://chat.shop.example/invite/inv_")
    assert "owner-m@example.com invited you" in body and "as agent" in body


def test_a_plain_server_gets_the_mail_when_starttls_is_off(owner, monkeypatch):
    with SmtpServer() as smtp:
        configure(monkeypatch, smtp.port, SMTP_FROM="", SMTP_USER="", SMTP_PASSWORD="")
        monkeypatch.setenv("SMTP_FROM", "noreply@shop.example")
        reset_settings()
        assert invitations.send_invitation(invite(owner)).status == "sent"
        (mail,) = smtp.messages
    assert not mail.tls and mail.login is None


def test_failures_are_reported_and_the_invitation_stays(owner, monkeypatch, tmp_path):
    with SmtpServer() as smtp:  # offers no STARTTLS
        configure(monkeypatch, smtp.port, SMTP_STARTTLS="true")
        refused = invitations.send_invitation(invite(owner, "no-tls@example.com"))
        assert smtp.messages == []
    assert refused.status == "failed"
    assert refused.error == "The email could not be sent: the server does not offer STARTTLS."
    with SmtpServer(credentials=LOGIN) as smtp:
        configure(monkeypatch, smtp.port, SMTP_USER=LOGIN[0], SMTP_PASSWORD="wrong")
        wrong_login = invitations.send_invitation(invite(owner, "bad-login@example.com"))
    assert "refused SMTP_USER and SMTP_PASSWORD" in wrong_login.error
    with SmtpServer(make_certificate(tmp_path)) as smtp:  # a certificate nobody here trusts
        configure(monkeypatch, smtp.port, SMTP_STARTTLS="true")
        untrusted = invitations.send_invitation(invite(owner, "untrusted@example.com"))
        assert smtp.messages == []
    assert "the secure connection (STARTTLS) failed" in untrusted.error
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        configure(monkeypatch, closed.getsockname()[1])
        unreachable = invitations.send_invitation(invite(owner, "down@example.com"))
    assert unreachable.status == "failed" and "could not be reached" in unreachable.error
    assert set(pending_emails(owner)) == {
        "no-tls@example.com",
        "bad-login@example.com",
        "untrusted@example.com",
        "down@example.com",
    }


def test_nothing_is_sent_without_smtp_or_without_an_email(owner, monkeypatch):
    assert invitations.send_invitation(invite(owner)).status == "not_configured"
    with SmtpServer() as smtp:
        configure(monkeypatch, smtp.port)
        no_email = invitations.send_invitation(invite(owner, email=""))
        assert no_email.status == "no_email" and smtp.messages == []
