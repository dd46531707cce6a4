"""The shape of an agent's reply where the API, the service and the inbox page meet."""

from __future__ import annotations

from pydantic import BaseModel

from chatapp.core.schemas import limited_text

MAX_REPLY_CHARS = 4000

# An empty reply is refused by the service ("Type a reply first."), as it always answered.
Reply = limited_text(MAX_REPLY_CHARS, "A reply is limited to {limit:,} characters.")


class ReplyIn(BaseModel):
    content: Reply
