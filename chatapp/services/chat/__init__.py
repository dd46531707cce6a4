"""The chat engine: one visitor message in, a stored, cited answer out, as a stream of events.

request.py     what a request, an event and the JSON reply are; validation
begin.py       checks, counts and stores the question -> a read-only `Turn` (turn.py)
strategies.py  each kind of answer as a small strategy; `plan()` picks one after deciding
               whether the passages answer the question (answerability.py)
routed.py      a router bot's answer, as one more strategy
recorder.py    stores complete, partial and failed answers the same way for every kind
engine.py      relays a strategy's pieces as events: `token`s, `sources`, `action`s, `done`
"""

from chatapp.services.chat.begin import begin
from chatapp.services.chat.engine import UNAVAILABLE, events, reply, stream
from chatapp.services.chat.request import ChatReply, ChatRequest, Event
from chatapp.services.chat.turn import Turn

__all__ = [
    "UNAVAILABLE",
    "ChatReply",
    "ChatRequest",
    "Event",
    "Turn",
    "begin",
    "events",
    "reply",
    "stream",
]
