"""The chat engine: one visitor message in, a stored, cited answer out, as a stream of events.

request.py        what a request, an event and the JSON reply are; validation
begin.py          checks, counts and stores the question -> a read-only `Turn` (turn.py)
strategies.py     each kind of answer as a small strategy; `plan()` picks one after deciding
                  whether the passages answer the question (compose/answerability.py)
routed.py         a router bot's answer, as one more strategy
recorder.py       stores complete, partial and failed answers the same way for every kind
engine.py         relays a strategy's pieces as events: `token`s, `sources`, `action`s, `done`
conversations.py  conversations and messages as the chat stores them; feedback.py: ratings
followup.py       a follow-up question -> a retrieval query that carries the subject
citations.py      what an answer cites
compose/          offline answers: answer units chosen from the passages and quoted
llm/              the LLM client, its prompts, what a streamed reply means
"""
