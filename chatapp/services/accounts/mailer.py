"""Sending one email through the installation's SMTP server, when one is configured.

Nothing in the product needs email: an invitation link can always be copied from the dashboard.
With SMTP_HOST set, a few messages (invitations) are also mailed. Sending blocks for up to
SMTP_TIMEOUT_SECONDS, so callers run it off the event loop and outside any database transaction;
a failure is a `MailFailed` with a sentence for the person who asked, never a crash.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr

from chatapp.core.config import get_settings
from chatapp.core.errors import ServiceError

log = logging.getLogger(__name__)


class MailFailed(ServiceError):
    status = 502


def is_configured() -> bool:
    return bool(get_settings().smtp_host.strip())


def _sender() -> str:
    settings = get_settings()
    sender = settings.smtp_from.strip() or settings.smtp_user.strip()
    if "@" not in sender:
        raise MailFailed("Email is not set up completely: set SMTP_FROM to the sender's address.")
    return sender


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one address; MailFailed says why it could not go."""
    settings = get_settings()
    if not is_configured():
        raise MailFailed("No email server is configured (SMTP_HOST).")
    message = EmailMessage()
    message["From"] = formataddr(("Chatapp", _sender()))
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    host, port = settings.smtp_host.strip(), settings.smtp_port
    step = "the server could not be reached or refused it"
    try:
        with smtplib.SMTP(host, port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                step = "the secure connection (STARTTLS) failed"
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                step = "the server refused SMTP_USER and SMTP_PASSWORD"
                smtp.login(settings.smtp_user, settings.smtp_password)
            step = "the server refused the message"
            smtp.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH, on offer
        what = "STARTTLS" if "STARTTLS" in str(exc) else "a login (AUTH)"
        raise _failed(host, port, exc, f"the server does not offer {what}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise _failed(host, port, exc, f"the server refused the address {to}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
        raise _failed(host, port, exc, step) from exc


def _failed(host: str, port: int, exc: Exception, why: str) -> MailFailed:
    log.warning("email to the SMTP server %s:%s failed: %s (%s)", host, port, why, exc)
    return MailFailed(f"The email could not be sent: {why}.")
