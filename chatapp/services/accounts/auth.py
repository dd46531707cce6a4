"""Accounts and logins: first-run setup, login with throttling, sessions, password changes.

A login hands out a random 32-byte token; only its SHA-256 is stored. Failed logins are recorded;
too many in a window lock further attempts for that email (and, more loosely, that IP). The error
for a wrong email and a wrong password is the same sentence and takes the same time.

The dashboard's login runs over its websocket, which cannot set an HttpOnly cookie: it asks for a
one-time *ticket* instead (`login(..., ticket=True)`), a session row that lasts `TICKET_SECONDS`
and is no session yet (`user_for_token` refuses it). The browser posts the ticket to
`/api/v1/auth/session`, which trades it (`redeem_ticket`: one UPDATE on the ticket's hash, so a
second trade finds nothing) for the real token, kept in the HttpOnly cookie `SESSION_COOKIE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select, update

from chatapp.core import security
from chatapp.core.config import get_settings
from chatapp.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from chatapp.services.accounts import security_events
from chatapp.services.models import AuthSession, LoginAttempt, User, utcnow

LOGIN_FAILED = "Email or password is incorrect."
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# Failures from one IP may come from several people behind one NAT: allow more than per email.
IP_FAILURE_FACTOR = 4
# The dashboard's HttpOnly session cookie (set by api/routes_auth.py, read by state/auth.py).
SESSION_COOKIE = "chatapp_session"
# A login ticket lives this long: the browser trades it at once, in the same page load.
TICKET_SECONDS = 60
TICKET_USED = "This login has expired or was already used. Please log in again."


@dataclass(frozen=True)
class LoginResult:
    token: str
    user: User
    expires_at: datetime
    remember: bool


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise ValidationFailed("Enter a valid email address, like name@example.com.")
    return email


def check_new_password(password: str) -> None:
    problem = security.password_problem(password or "")
    if problem:
        raise ValidationFailed(problem)


def has_any_user(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def create_user(session: Session, *, email: str, password: str, name: str = "") -> User:
    """A new active user; Conflict if the email is taken."""
    email = normalize_email(email)
    check_new_password(password)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise Conflict("A user with this email already exists.")
    user = User(
        email=email, name=(name or "").strip()[:120], password_hash=security.hash_password(password)
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent creation won the race
        raise Conflict("A user with this email already exists.") from exc
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    try:
        email = normalize_email(email)
    except ValidationFailed:
        return None
    return session.exec(select(User).where(User.email == email)).first()


def _recent_failures(session: Session, column, value: str, since: datetime) -> int:
    last_success = session.exec(
        select(func.max(LoginAttempt.created_at)).where(
            column == value, col(LoginAttempt.succeeded).is_(True)
        )
    ).one()
    start = max(since, last_success) if last_success else since
    return session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            column == value,
            col(LoginAttempt.succeeded).is_(False),
            col(LoginAttempt.created_at) > start,
        )
    ).one()


def _check_throttle(session: Session, email: str, ip: str) -> None:
    settings = get_settings()
    window = timedelta(minutes=settings.login_lockout_minutes)
    since = utcnow() - window
    limit = settings.login_max_failures
    locked = _recent_failures(session, LoginAttempt.email, email, since) >= limit
    if ip and not locked:
        locked = _recent_failures(session, LoginAttempt.ip, ip, since) >= limit * IP_FAILURE_FACTOR
    if locked:
        minutes = settings.login_lockout_minutes
        security_events.emit(
            security_events.LOGIN_THROTTLED, "too many failed logins", email=_loggable(email), ip=ip
        )
        raise TooManyRequests(
            f"Too many failed attempts. Try again in {minutes} minutes.",
            retry_after_seconds=minutes * 60,
        )


def login(
    session: Session,
    *,
    email: str,
    password: str,
    remember: bool = False,
    ip: str = "",
    user_agent: str = "",
    ticket: bool = False,
) -> LoginResult:
    """Check the credentials and open a session; the same error for every kind of failure.

    With `ticket`, the token returned is a one-time login ticket for `redeem_ticket`."""
    email = (email or "").strip().lower()[:254]
    ip = (ip or "")[:64]
    _check_throttle(session, email, ip)
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    if user is None:
        security.burn_password_check(password or "")
        ok = False
    else:
        ok = user.is_active and security.verify_password(password or "", user.password_hash)
    session.add(LoginAttempt(email=email, ip=ip, succeeded=ok))
    if not ok:
        session.commit()  # the failure must count even though we raise
        reason = "unknown email" if user is None else "wrong password or inactive user"
        security_events.emit(security_events.FAILED_LOGIN, reason, email=_loggable(email), ip=ip)
        raise NotAuthenticated(LOGIN_FAILED)
    return open_session(
        session, user, remember=remember, ip=ip, user_agent=user_agent, ticket=ticket
    )


def _loggable(email: str) -> str:
    """The email for a security log line, unless it is not one (a password typed there)."""
    return email if EMAIL_PATTERN.match(email) else "(not an email address)"


def _lifetime(remember: bool) -> timedelta:
    settings = get_settings()
    if remember:
        return timedelta(days=settings.remember_me_days)
    return timedelta(hours=settings.session_hours)


def _is_ticket(record: AuthSession) -> bool:
    """A ticket not traded yet: a row that lives no longer than a ticket (sessions last hours)."""
    return record.expires_at - record.created_at <= timedelta(seconds=TICKET_SECONDS)


def open_session(
    session: Session,
    user: User,
    *,
    remember: bool,
    ip: str,
    user_agent: str,
    ticket: bool = False,
) -> LoginResult:
    """A login session (or a one-time ticket that becomes one) for a user already proven:
    by their password here, or by the password they set this instant (invitations)."""
    lifetime = timedelta(seconds=TICKET_SECONDS) if ticket else _lifetime(remember)
    token = security.new_token()
    now = utcnow()
    record = AuthSession(
        created_at=now,
        last_seen_at=now,
        user_id=user.id,
        token_hash=security.hash_token(token),
        remember=remember,
        expires_at=now + lifetime,
        ip=ip[:64],
        user_agent=(user_agent or "")[:300],
    )
    user.last_login_at = now
    session.add(record)
    session.add(user)
    session.flush()
    return LoginResult(token=token, user=user, expires_at=record.expires_at, remember=remember)


def user_for_token(session: Session, token: str | None) -> User:
    """The user behind a session token; NotAuthenticated if missing, unknown or expired."""
    if not token or len(token) > 200:
        raise NotAuthenticated("Please log in.")
    record = session.exec(
        select(AuthSession).where(AuthSession.token_hash == security.hash_token(token))
    ).first()
    now = utcnow()
    if record is None or record.expires_at <= now or _is_ticket(record):
        raise NotAuthenticated("Your session has ended. Please log in again.")
    user = session.get(User, record.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Please log in.")
    if (now - record.last_seen_at) > timedelta(minutes=5):
        record.last_seen_at = now
        session.add(record)
    return user


def redeem_ticket(session: Session, ticket: str) -> LoginResult:
    """Trade a login ticket, once, for the session token the dashboard's cookie keeps."""
    ticket_hash = security.hash_token(ticket or "")
    record = session.exec(select(AuthSession).where(AuthSession.token_hash == ticket_hash)).first()
    now = utcnow()
    if not ticket or record is None or record.expires_at <= now or not _is_ticket(record):
        raise NotAuthenticated(TICKET_USED)
    token, expires_at = security.new_token(), now + _lifetime(record.remember)
    traded = session.exec(
        update(AuthSession)
        .where(col(AuthSession.id) == record.id, col(AuthSession.token_hash) == ticket_hash)
        .values(token_hash=security.hash_token(token), expires_at=expires_at, last_seen_at=now)
    )
    user = session.get(User, record.user_id)
    if traded.rowcount != 1 or user is None or not user.is_active:  # another trade won
        raise NotAuthenticated(TICKET_USED)
    return LoginResult(token=token, user=user, expires_at=expires_at, remember=record.remember)


def cookie_token(cookie_header: str | None) -> str:
    """The session token in a `Cookie:` header (the dashboard websocket's handshake), or ""."""
    # Split by hand: http.cookies stops at the first cookie it dislikes (another app's).
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value.strip().strip('"')
    return ""


def logout(session: Session, token: str | None) -> None:
    if token:
        session.exec(
            delete(AuthSession).where(col(AuthSession.token_hash) == security.hash_token(token))
        )


def change_password(
    session: Session,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    keep_token: str | None = None,
) -> None:
    """Change a password after checking the current one; other sessions are signed out."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    if not security.verify_password(current_password or "", user.password_hash):
        raise ValidationFailed("The current password is not correct.")
    check_new_password(new_password)
    _set_password(session, user, new_password, keep_token=keep_token)


def reset_password(session: Session, *, email: str, new_password: str) -> User:
    """Operator reset (CLI): no current password needed; every session is signed out."""
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFound("No user with this email.")
    check_new_password(new_password)
    _set_password(session, user, new_password, keep_token=None)
    return user


def _set_password(session: Session, user: User, password: str, *, keep_token: str | None) -> None:
    user.password_hash = security.hash_password(password)
    session.add(user)
    statement = delete(AuthSession).where(col(AuthSession.user_id) == user.id)
    if keep_token:
        statement = statement.where(col(AuthSession.token_hash) != security.hash_token(keep_token))
    session.exec(statement)


def purge_expired(
    session: Session, *, older_than_days: int = 30, now: datetime | None = None
) -> int:
    """Drop expired sessions and old login attempts; returns how many sessions went.

    Retention's hourly sweep calls it (ops/retention.py `purge`).
    """
    now = now or utcnow()
    result = session.exec(delete(AuthSession).where(col(AuthSession.expires_at) <= now))
    session.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.created_at) < now - timedelta(days=older_than_days)
        )
    )
    return result.rowcount or 0
