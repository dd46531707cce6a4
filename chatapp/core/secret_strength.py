"""How much randomness a secret setting holds, estimated in bits, so production can refuse keys
that are long but guessable (`aaaa...`, `changemechangeme...`, `0123456789abcdef...`).

The estimate reads the string left to right, like a compressor: each character costs log2 of the
alphabet its character classes suggest (16 for hex, 26 per letter case, 10 digits, 33 symbols),
except where a pattern makes it predictable: a run that repeats earlier text (`abcabc`, `aaaa`)
costs only where it comes from and how long it is, and a run stepping by one (`abcdef`, `9876`)
costs its start and its length. Words are not looked up: a passphrase of words still passes on
length, a generated token (`secrets.token_urlsafe(48)`, ~380 bits here) always does.
"""

from __future__ import annotations

import math
import string

MIN_SECRET_BITS = 128
# Patterns shorter than this are left alone: a random key holds a few by chance.
MIN_PATTERN = 5
MAX_CHECKED_CHARS = 512  # longer keys: the first 512 characters decide (plenty of bits)
MAKE_ONE = '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'

_HEX_LOWER = set(string.digits + "abcdef")
_HEX_UPPER = set(string.digits + "ABCDEF")


def _alphabet(value: str) -> int:
    chars = set(value)
    if chars <= set(string.digits):
        return 10
    if chars <= _HEX_LOWER or chars <= _HEX_UPPER:
        return 16
    size = 0
    size += 26 if chars & set(string.ascii_lowercase) else 0
    size += 26 if chars & set(string.ascii_uppercase) else 0
    size += 10 if chars & set(string.digits) else 0
    size += 33 if any(not c.isalnum() and c.isascii() for c in chars) else 0
    size += 100 if any(not c.isascii() for c in chars) else 0
    return max(size, 2)


def _earlier_match(value: str, at: int) -> tuple[int, int]:
    """The longest text starting at `at` that also starts earlier (overlap allowed: `aaaa`)."""
    best, where = 0, 0
    for start in range(at):
        length = 0
        while at + length < len(value) and value[start + length] == value[at + length]:
            length += 1
        if length > best:
            best, where = length, start
    return best, where


def _stepping_run(value: str, at: int) -> int:
    """How many characters from `at` step by the same -1, 0 or +1 (`abcde`, `54321`, `zzzz`)."""
    if at + 1 >= len(value):
        return 1
    step = ord(value[at + 1]) - ord(value[at])
    if abs(step) > 1:
        return 1
    length = 2
    while (
        at + length < len(value) and ord(value[at + length]) - ord(value[at + length - 1]) == step
    ):
        length += 1
    return length


def estimated_bits(value: str) -> float:
    """About how many bits of randomness `value` holds (see the module's docstring)."""
    value = value[:MAX_CHECKED_CHARS]
    if not value:
        return 0.0
    per_char = math.log2(_alphabet(value))
    bits, at = 0.0, 0
    while at < len(value):
        repeated, _ = _earlier_match(value, at)
        if repeated >= MIN_PATTERN:
            bits += math.log2(at) + math.log2(repeated)  # where it was, how long
            at += repeated
            continue
        run = _stepping_run(value, at)
        if run >= MIN_PATTERN:
            bits += per_char + math.log2(run) + 1  # its start, length and direction
            at += run
            continue
        bits += per_char
        at += 1
    return bits


def weakness(name: str, value: str, *, min_length: int) -> str | None:
    """Why `value` is too weak for the secret setting `name` (never quoting it), or None."""
    if len(value) < min_length:
        return (
            f"{name} is too short for production: use at least {min_length} random characters, "
            f"e.g. the output of {MAKE_ONE}."
        )
    bits = estimated_bits(value)
    if bits < MIN_SECRET_BITS:
        return (
            f"{name} is too guessable for production: it holds about {bits:.0f} bits of "
            f"randomness (repeated, sequential or few kinds of characters count for little) and "
            f"needs at least {MIN_SECRET_BITS} bits. Make one with {MAKE_ONE}."
        )
    return None
