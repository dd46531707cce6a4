"""What every table shares: aware UTC times and the enums of roles, statuses and plans."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    """Aware UTC now: SQLModel's datetime columns store and return aware UTC values."""
    return datetime.now(UTC)


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class BotStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class WidgetPosition(StrEnum):
    BOTTOM_RIGHT = "bottom-right"
    BOTTOM_LEFT = "bottom-left"
    CENTER = "center"


class Plan(StrEnum):
    FREE = "free"
    PAID = "paid"
