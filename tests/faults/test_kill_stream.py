"""SIGKILL while an answer streams, then restart: the stream just ends for the visitor (the
widget shows its network error with a Retry that resends the same client id), the question is
stored once, no half-written answer breaks the conversation, and the next questions work."""

from __future__ import annotations

import time

import httpx

from tests.faults.stack import FaultApi, Store, assert_readable, chat_body, parse_sse, prepare
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import new_session_id

QUESTION = "When are you open on Saturdays?"
ANSWER = " ".join(f"word{n}" for n in range(60))


def test_sigkill_during_a_streamed_answer(tmp_path):
    data_dir = tmp_path / "data"
    shop = prepare(data_dir)["shop"]
    store = Store.sqlite(data_dir)
    session_id = new_session_id()
    with fake_llm_server() as fake:
        fake.reply, fake.token_delay = ANSWER, 0.1
        api = FaultApi(data_dir, llm_base_url=fake.base_url)
        api.start()
        try:
            used = store.quota_used(shop["bot"])
            seen, cut = "", None
            body = chat_body(shop, QUESTION, session_id, client_id="first-question")
            with httpx.stream("POST", f"{api.base}/api/chat", json=body, timeout=30) as response:
                try:
                    for chunk in response.iter_text():
                        seen += chunk
                        if seen.count("event: token") == 3 and api.process is not None:
                            api.kill()
                except httpx.HTTPError as exc:
                    cut = exc
            events = parse_sse(seen)
            print(f"\nthe visitor saw {len(events)} events, then {cut!r}")
            assert [kind for kind, _ in events] == ["token"] * len(events)  # no done, no error
            assert 3 <= len(events) < 60

            restarted = time.monotonic()
            api.start()
            up = time.monotonic() - restarted
            assert store.messages(session_id) == [("user", QUESTION)]  # no half answer row
            assert store.quota_used(shop["bot"]) == used + 1  # counted: tokens were delivered

            fake.token_delay = 0
            with httpx.Client(timeout=30) as client:
                retry = client.post(f"{api.base}/api/chat", json=body)  # the widget's Retry
                second = chat_body(shop, "Do you ship to Canada?", session_id, client_id="second")
                nxt = client.post(f"{api.base}/api/chat", json=second)
        finally:
            api.stop()
    for response in (retry, nxt):
        assert_readable(response.text)
        assert parse_sse(response.text)[-1][0] == "done", response.text
    print(f"API answering again {up:.1f} s after the restart")
    rows = store.rows(
        "SELECT m.role, m.client_id, m.content FROM message m JOIN conversation c "
        "ON c.id = m.conversation_id WHERE c.session_id = :s ORDER BY m.id",
        s=session_id,
    )
    assert [(role, cid) for role, cid, _ in rows] == [
        ("user", "first-question"),
        ("assistant", "first-question"),
        ("user", "second"),
        ("assistant", "second"),
    ]
    assert rows[1][2] == ANSWER
    # the cut answer counted (tokens were delivered), and so do the retry and the next question
    assert store.quota_used(shop["bot"]) == used + 3
    store.close()
