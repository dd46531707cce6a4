"""The shapes of contacts where the API, the services and the dashboard meet.

The limits of a contact's fields are defined here once. The widget's lead form (`LeadIn`) is
checked by the service (`leads.clean` with `crud.clean`), which names every bad field at once:
the API answers 422 `{detail, errors: {field: message}}` so the widget shows each message beside
its field. So `LeadIn` documents these limits (maxLength) without refusing them itself: a
request over a limit gets the service's words, the same as the dashboard's contact form.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_NAME = 120
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_EXTERNAL_ID = 120
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 5, 20
MAX_LEAD_MESSAGE = 2000


def _documented(limit: int, description: str = "") -> dict:
    extra = {"json_schema_extra": {"maxLength": limit}}
    return {"default": "", **extra, **({"description": description} if description else {})}


class LeadIn(BaseModel):
    bot_id: str = Field(max_length=64)
    session_id: str | None = Field(default=None, max_length=64)
    api_key: str | None = Field(default=None, max_length=200)
    name: str = Field(**_documented(MAX_NAME))
    email: str = Field(**_documented(MAX_EMAIL))
    phone: str = Field(**_documented(MAX_PHONE, "5 to 20 digits; + ( ) . - / and spaces."))
    message: str = Field(**_documented(MAX_LEAD_MESSAGE))


class LeadOut(BaseModel):
    contact_id: int
    message: str
