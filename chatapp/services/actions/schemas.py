"""The shapes of a bot's actions where the API and the service meet.

An action's settings are checked by the service (`store`, `templates`), which names every bad
field at once: the API answers 422 `{detail, errors: {field: message}}`. So these request shapes
document the limits (maxLength) and leave the refusing, in the service's words, to the service.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

MAX_ACTION_NAME = 80  # the column's size (Action.name)

Kind = Literal["collect_lead", "handoff", "http", "link"]


class ActionIn(BaseModel):
    kind: Kind
    name: str | None = Field(
        default=None,
        json_schema_extra={"maxLength": MAX_ACTION_NAME},
        description="Empty: the kind's name.",
    )
    enabled: bool = True
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The kind's settings (docs/LIVE_AND_ACTIONS.md); missing keys take the "
        "template's values. Secret header values are stored encrypted and never returned.",
    )


class ActionPatch(BaseModel):
    name: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_ACTION_NAME})
    enabled: bool | None = None
    config: dict[str, Any] | None = Field(
        default=None, description="Replaces the config; a secret header left empty is kept."
    )
