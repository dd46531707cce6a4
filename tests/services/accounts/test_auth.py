from datetime import timedelta

import pytest
from sqlmodel import select

from chatapp.core import security
from chatapp.core.errors import Conflict, NotAuthenticated, TooManyRequests, ValidationFailed
from chatapp.services.accounts import auth, workspaces
from chatapp.services.models import AuthSession, LoginAttempt, utcnow
from tests.utils.factories import PASSWORD, make_user


def test_first_run_setup_creates_owner_and_workspace_then_refuses(session):
    assert not auth.has_any_user(session)
    user, workspace = workspaces.setup_first_admin(
        session, email="Boss@Example.com ", password=PASSWORD, workspace_name="Acme"
    )
    assert user.email == "boss@example.com"
    assert workspaces.list_user_workspaces(session, user_id=user.id)[0].role == "owner"
    assert workspace.slug == "acme"
    with pytest.raises(Conflict, match="already done"):
        workspaces.setup_first_admin(
            session, email="other@example.com", password=PASSWORD, workspace_name="Other"
        )


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "valid email"),
        ("a@example.com", "short", "at least 8"),
        ("a@example.com", " " * 12, "only spaces"),
    ],
)
def test_create_user_validates(session, email, password, message):
    with pytest.raises(ValidationFailed, match=message):
        auth.create_user(session, email=email, password=password)


def test_duplicate_email_is_a_conflict(session):
    make_user(session, "same@example.com")
    with pytest.raises(Conflict):
        make_user(session, "SAME@example.com")


def test_password_is_hashed_with_argon2(session):
    user = make_user(session)
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


def test_login_returns_a_token_whose_hash_only_is_stored(session):
    user = make_user(session, "login@example.com")
    result = auth.login(session, email="login@example.com", password=PASSWORD)
    stored = session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
    assert len(result.token) >= 43  # 32 random bytes, base64url
    assert stored.token_hash == security.hash_token(result.token)
    assert result.token not in stored.token_hash
    assert auth.user_for_token(session, result.token).id == user.id


def test_wrong_password_and_unknown_email_get_the_same_message(session):
    make_user(session, "known@example.com")
    with pytest.raises(NotAuthenticated) as wrong_password:
        auth.login(session, email="known@example.com", password="wrong password")
    with pytest.raises(NotAuthenticated) as unknown_email:
        auth.login(session, email="nobody@example.com", password="wrong password")
    assert wrong_password.value.message == unknown_email.value.message == auth.LOGIN_FAILED


def test_remember_me_lasts_seven_days_otherwise_hours(session):
    make_user(session, "r@example.com")
    short = auth.login(session, email="r@example.com", password=PASSWORD)
    long = auth.login(session, email="r@example.com", password=PASSWORD, remember=True)
    now = utcnow()
    assert timedelta(hours=11) < short.expires_at - now <= timedelta(hours=12)
    assert timedelta(days=6, hours=23) < long.expires_at - now <= timedelta(days=7)


def test_expired_and_logged_out_tokens_are_refused(session):
    make_user(session, "e@example.com")
    result = auth.login(session, email="e@example.com", password=PASSWORD)
    record = session.exec(select(AuthSession)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.add(record)
    session.flush()
    with pytest.raises(NotAuthenticated, match="session has ended"):
        auth.user_for_token(session, result.token)
    other = auth.login(session, email="e@example.com", password=PASSWORD)
    auth.logout(session, other.token)
    with pytest.raises(NotAuthenticated):
        auth.user_for_token(session, other.token)
    with pytest.raises(NotAuthenticated):
        auth.user_for_token(session, None)


def test_login_is_throttled_after_repeated_failures(session):
    make_user(session, "t@example.com")
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            auth.login(session, email="t@example.com", password="wrong password")
    with pytest.raises(TooManyRequests) as refused:
        auth.login(session, email="t@example.com", password=PASSWORD)  # even the right one
    assert refused.value.retry_after_seconds == 15 * 60
    # Attempts older than the window no longer count.
    for attempt in session.exec(select(LoginAttempt)):
        attempt.created_at = utcnow() - timedelta(minutes=16)
        session.add(attempt)
    session.flush()
    assert auth.login(session, email="t@example.com", password=PASSWORD).token


def test_failures_are_recorded_even_though_login_raises(engine):
    from chatapp.core.db import session_scope

    with session_scope(engine) as session:
        make_user(session, "f@example.com")
    with pytest.raises(NotAuthenticated), session_scope(engine) as session:
        auth.login(session, email="f@example.com", password="nope nope")
    with session_scope(engine) as session:
        attempts = session.exec(select(LoginAttempt)).all()
    assert [(a.email, a.succeeded) for a in attempts] == [("f@example.com", False)]


def test_change_password_checks_current_and_signs_out_other_sessions(session):
    user = make_user(session, "c@example.com")
    mine = auth.login(session, email="c@example.com", password=PASSWORD)
    elsewhere = auth.login(session, email="c@example.com", password=PASSWORD)
    with pytest.raises(ValidationFailed, match="current password"):
        auth.change_password(
            session, user_id=user.id, current_password="bad", new_password="new password 1"
        )
    auth.change_password(
        session,
        user_id=user.id,
        current_password=PASSWORD,
        new_password="new password 1",
        keep_token=mine.token,
    )
    assert auth.user_for_token(session, mine.token).id == user.id
    with pytest.raises(NotAuthenticated):
        auth.user_for_token(session, elsewhere.token)
    with pytest.raises(NotAuthenticated):
        auth.login(session, email="c@example.com", password=PASSWORD)
    assert auth.login(session, email="c@example.com", password="new password 1").token
