"""Numbers of a question that fall in a range a text gives: "178 cm" is answered by "174-181 cm".

Owners write sizes, ages, prices and quantities as ranges ("| 174-181 cm | 56 cm (M) |",
"riders between 170 cm and 183 cm", "ages 8 to 10"); visitors ask with one value ("I am 178 cm
tall"). Word matching never sees 178 in "174-181", so the value counts as found in a text that
gives a range holding it. Ranges read: "a-b" (hyphen or dash), "a to b", "between a and b", each
bound optionally followed by a short unit ("cm", "kg"). A "range" whose first number is not below
its second ("2026-12-07") is not one.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")
_BOUND = r"(\d+(?:\.\d+)?)"
_UNIT = r"(?:\s?[a-z%\u00a3$\u20ac]{1,3}\.?)?"
_RANGE = re.compile(
    rf"(?<![\w.]){_BOUND}{_UNIT}\s*(?:-|\u2013|\u2014|to)\s*[\u00a3$\u20ac]?{_BOUND}(?![\w.]*\d)"
    rf"|between\s+[\u00a3$\u20ac]?{_BOUND}{_UNIT}\s+and\s+[\u00a3$\u20ac]?{_BOUND}",
    re.IGNORECASE,
)


def numbers(text: str) -> set[str]:
    """The plain numbers written in `text` ("178", "1.5"), as written."""
    return set(_NUMBER.findall(text))


def within(values: set[str], text: str) -> set[str]:
    """The values (numbers as written) that fall inside a range `text` gives."""
    if not values:
        return set()
    bounds = []
    for match in _RANGE.finditer(text):
        low, high = (g for g in match.groups() if g is not None)
        if float(low) < float(high):
            bounds.append((float(low), float(high)))
    return {v for v in values if any(low <= float(v) <= high for low, high in bounds)}
