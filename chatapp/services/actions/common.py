"""Small helpers shared by the action modules: collecting field problems, reading values."""

from __future__ import annotations

from typing import Any

from chatapp.core.errors import ServiceError, ValidationFailed
from chatapp.services.models import ActionRunOutcome


class ActionInvalid(ValidationFailed):
    """Bad action settings: `errors` maps a field (dotted path) to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ActionFailed(ServiceError):
    """An action ran and failed (the service was down, the answer was too big, ...)."""

    status = 502
    outcome = ActionRunOutcome.ERROR


class ActionRefused(ActionFailed):
    """An action was not run: its target is not allowed (SSRF guard) or its input was bad."""

    status = 422
    outcome = ActionRunOutcome.REFUSED


class Problems:
    """Collects one message per field, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ActionInvalid(self.errors)


def text(
    problems: Problems, raw: dict[str, Any], key: str, limit: int, *, required: bool = False
) -> str:
    value = raw.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        problems.add(key, "This cannot be empty.")
    if len(value) > limit:
        problems.add(key, f"Keep it under {limit + 1} characters.")
    return value[:limit]


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def as_int(problems: Problems, raw: dict[str, Any], key: str, low: int, high: int) -> int:
    value = raw.get(key)
    try:
        number = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        problems.add(key, f"Use a whole number from {low} to {high}.")
        return low
    return number
