"""The dashboard's login ticket: one use, short-lived, never a session itself; and the session
token read from a websocket handshake's cookie header."""

from datetime import timedelta

import pytest
from sqlmodel import select, update

from chatapp.core import security
from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import auth
from chatapp.services.models import AuthSession, utcnow
from tests.utils.factories import PASSWORD, make_user


def _ticket(session, email, remember=False) -> str:
    return auth.login(session, email=email, password=PASSWORD, remember=remember, ticket=True).token


def test_a_ticket_is_traded_once_for_a_session_and_is_no_session_itself(session):
    user = make_user(session, "t@example.com")
    ticket = _ticket(session, "t@example.com")
    with pytest.raises(NotAuthenticated):
        auth.user_for_token(session, ticket)  # a ticket in a bearer header or cookie: refused
    traded = auth.redeem_ticket(session, ticket)
    assert traded.token != ticket and not traded.remember
    assert auth.user_for_token(session, traded.token).id == user.id
    assert traded.expires_at - utcnow() > timedelta(hours=11)
    with pytest.raises(NotAuthenticated, match="already used"):
        auth.redeem_ticket(session, ticket)  # the second trade finds nothing
    with pytest.raises(NotAuthenticated, match="already used"):
        auth.redeem_ticket(session, traded.token)  # a session cannot be traded for another
    assert len(session.exec(select(AuthSession)).all()) == 1


def test_a_remembered_ticket_gives_a_seven_day_session(session):
    make_user(session, "r@example.com")
    traded = auth.redeem_ticket(session, _ticket(session, "r@example.com", remember=True))
    assert traded.remember
    assert timedelta(days=6, hours=23) < traded.expires_at - utcnow() <= timedelta(days=7)


def test_an_expired_or_unknown_ticket_is_refused(session):
    make_user(session, "e@example.com")
    ticket = _ticket(session, "e@example.com")
    past = utcnow() - timedelta(seconds=1)
    session.exec(
        update(AuthSession)
        .where(AuthSession.token_hash == security.hash_token(ticket))
        .values(expires_at=past, created_at=past - timedelta(seconds=auth.TICKET_SECONDS))
    )
    for bad in (ticket, "", "x" * 43):
        with pytest.raises(NotAuthenticated, match="Please log in again"):
            auth.redeem_ticket(session, bad)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("chatapp_session=abc-DEF_1", "abc-DEF_1"),
        ('theme=dark; other="a b"; chatapp_session=tok; last=1', "tok"),
        ("weird=a,b;;; chatapp_session=tok2", "tok2"),
        ("chatapp_sessionx=nope; xchatapp_session=nope", ""),
        ("", ""),
    ],
)
def test_the_session_token_is_read_from_a_cookie_header(header, token):
    assert auth.cookie_token(header) == token
