"""Moving keyboard focus after an event changed the page (a button that was pressed is gone, a
panel that opened): the next thing to do gets focus instead of the page's body."""

from __future__ import annotations

import json

import reflex as rx

# The element may appear or become visible only once the event's changes are rendered: try on
# each animation frame for about two seconds; the first of the ids on screen gets focus.
_FOCUS_WHEN_SHOWN_JS = """
(() => {
  const ids = %s;
  let tries = 0;
  const attempt = () => {
    const shown = ids.map((id) => document.getElementById(id))
      .find((el) => el && el.getClientRects().length > 0);
    if (shown) { shown.focus(); return; }
    if (++tries < 120) requestAnimationFrame(attempt);
  };
  requestAnimationFrame(attempt);
})()
"""


def focus_when_shown(*element_ids: str) -> rx.event.EventSpec:
    """An event that focuses the first of these elements on screen, once one is."""
    return rx.call_script(_FOCUS_WHEN_SHOWN_JS % json.dumps(list(element_ids)))
