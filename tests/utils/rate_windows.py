"""Rate limits count in fixed one-minute windows (chatapp/core/ratelimit.py): a burst of
requests that straddles a window's end is counted in two windows, and its last request is then
rightly answered. A burst retried at once starts in the new window and cannot straddle another
(a burst takes seconds), so a limit that does not hold fails both tries."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def refused_within_one_window(burst: Callable[[str], T | None]) -> T:
    """`burst(conversation)` sends its requests in a new conversation and returns the refusal
    of the last one, or None when it was answered."""
    for _ in range(2):
        refusal = burst("limits-" + secrets.token_hex(8))
        if refusal is not None:
            return refusal
    raise AssertionError("the request over the limit was answered in two bursts in a row")
