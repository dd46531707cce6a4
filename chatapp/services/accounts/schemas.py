"""The shapes of workspace API tokens where the API and the service meet: one limit, one message."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chatapp.core.schemas import limited_text

MAX_TOKEN_NAME = 80  # the column's size (ApiToken.name)
TOKEN_NAME = "Name the token (1 to {limit} characters), e.g. 'docs sync script'."

TokenName = limited_text(MAX_TOKEN_NAME, TOKEN_NAME, blank=TOKEN_NAME.format(limit=MAX_TOKEN_NAME))


class TokenIn(BaseModel):
    name: TokenName


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    token: str | None = Field(default=None, description="Only in the creation response.")
