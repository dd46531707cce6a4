"""PostgreSQL restarted under traffic (a private server, never the shared one): visitors keep
chatting; during the outage they get a quick, readable 503 (never a hang or a 500 with a trace);
afterwards the same app process answers again, and retried messages are stored exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from tests.faults.services import private_postgres
from tests.faults.stack import (
    FaultApi,
    Store,
    assert_readable,
    chat_body,
    parse_sse,
    prepare,
    wait_for,
)
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import new_session_id

pytestmark = pytest.mark.postgres

VISITORS = 4
QUESTION = "When are you open on Saturdays?"


@dataclass
class Outcome:
    at: float
    took: float
    status: int
    kind: str  # done, error (SSE), or the JSON detail's status
    text: str


@dataclass
class Visitor:
    """Asks again and again; a failed message is retried with the same client id (the widget's
    retry button) until it is answered."""

    base: str
    shop: dict
    session_id: str = field(default_factory=new_session_id)
    outcomes: list[Outcome] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        client_id = None
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                client_id = client_id or uuid.uuid4().hex
                body = chat_body(self.shop, QUESTION, self.session_id, client_id=client_id)
                started = time.monotonic()
                try:
                    response = client.post(f"{self.base}/api/chat", json=body)
                    status, text = response.status_code, response.text
                except httpx.HTTPError as exc:  # a hang or a dropped connection is a finding
                    status, text = 0, repr(exc)
                kinds = [kind for kind, _ in parse_sse(text)] if status == 200 else []
                kind = kinds[-1] if kinds else str(status)
                took = time.monotonic() - started
                self.outcomes.append(Outcome(started, took, status, kind, text))
                if kind == "done":
                    self.answered.append(client_id)
                    client_id = None
                else:
                    stop.wait(0.2)  # the widget's user pressing retry, not a synchronisation


def test_postgres_restart_during_traffic(tmp_path):
    with private_postgres() as pg, fake_llm_server() as fake:
        env = {"DATABASE_URL": pg.url, "DB_POOL_SIZE": "4", "CHAT_SESSION_PER_MINUTE": "0"}
        shop = prepare(tmp_path / "data", env)["shop"]
        store = Store(pg.url)
        with FaultApi(tmp_path / "data", llm_base_url=fake.base_url, env=env) as api:
            stop = threading.Event()
            visitors = [Visitor(api.base, shop) for _ in range(VISITORS)]
            threads = [threading.Thread(target=v.run, args=(stop,)) for v in visitors]
            for thread in threads:
                thread.start()
            try:
                wait_for(lambda: all(len(v.answered) >= 2 for v in visitors), 60, "warm-up")
                down_at = time.monotonic()
                pg.stop("fast")
                failed = lambda: sum(o.kind != "done" for v in visitors for o in v.outcomes)  # noqa: E731
                wait_for(lambda: failed() >= 10 * VISITORS, 60, "requests during the outage")
                pg.start()
                up_at = time.monotonic()
                before = {id(v): len(v.answered) for v in visitors}
                wait_for(
                    lambda: all(len(v.answered) >= before[id(v)] + 2 for v in visitors),
                    60,
                    "every visitor answered again after the restart",
                )
            finally:
                stop.set()
                for thread in threads:
                    thread.join(60)

        outcomes = [o for v in visitors for o in v.outcomes]
        during = [o for o in outcomes if o.kind != "done"]
        after_up = [o.at + o.took - up_at for o in outcomes if o.kind == "done" and o.at >= up_at]
        recovery = min(after_up)
        print(
            f"\nrequests {len(outcomes)}, failed {len(during)} "
            f"(statuses {sorted({(o.status, o.kind) for o in during})}), "
            f"slowest failure {max(o.took for o in during):.2f} s, outage "
            f"{up_at - down_at:.2f} s, first answer {recovery:.2f} s after PostgreSQL was up"
        )
        for kind in sorted({o.kind for o in during}):
            seen = next(o.text for o in during if o.kind == kind)
            print(f"the visitor saw ({kind}):", parse_sse(seen)[-1] if kind == "error" else seen)
        for outcome in during:
            assert outcome.status in (200, 503), outcome.text  # never a 500, never a hang
            assert outcome.took < 10, outcome
            assert_readable(outcome.text)
            if outcome.status == 503:
                assert "try again" in outcome.text.lower()
        # exactly once: every answered client id has one question and one answer, nothing else
        for visitor in visitors:
            rows = store.rows(
                "SELECT m.role, m.client_id FROM message m JOIN conversation c "
                "ON c.id = m.conversation_id WHERE c.session_id = :s",
                s=visitor.session_id,
            )
            answered = set(visitor.answered)
            assert len(visitor.answered) == len(answered)
            questions = [cid for role, cid in rows if role == "user" and cid in answered]
            assert sorted(questions) == sorted(answered)
            assert sorted(cid for role, cid in rows if role == "assistant") == sorted(answered)
            user_ids = [cid for role, cid in rows if role == "user"]
            assert len(user_ids) == len(set(user_ids)), "a question was stored twice"
        store.close()
