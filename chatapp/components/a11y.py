"""Accessibility pieces the dashboard's pages share: text only screen readers read, focus handed
back when a dialog closes, and a field tied to the error written under it."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.function import FunctionStringVar

# Radix gives focus back to a dialog's Trigger only: a dialog that state opens (from a table row,
# say) has none, and focus fell to the page body when it closed. Each dialog remembers what had
# focus when it opened, on its own element (so a dialog inside a dialog remembers its own), and
# focuses it again on closing. When the opener is gone, or goes right after (the row a confirmed
# deletion removes), focus moves to the page's main region (or its title) rather than the body.
_REMEMBER_OPENER = FunctionStringVar.create(
    "((event) => { event.target.chatappOpener = document.activeElement; })"
)
_RETURN_FOCUS = FunctionStringVar.create(
    """((event) => {
  const opener = event.target.chatappOpener;
  const toPage = () => {
    const main = document.querySelector('main') || [...document.querySelectorAll('h1')].pop();
    if (!main) return;
    if (!main.hasAttribute('tabindex')) main.setAttribute('tabindex', '-1');
    main.focus();
  };
  event.preventDefault();
  if (!opener || !opener.isConnected || opener === document.body) return toPage();
  opener.focus();
  const watch = new MutationObserver(() => {
    if (opener.isConnected) return;
    watch.disconnect();
    if (document.activeElement === document.body) toPage();
  });
  watch.observe(document.body, { childList: true, subtree: true });
  setTimeout(() => watch.disconnect(), 10000);
})"""
)

# For `custom_attrs` of a dialog's title: Radix Themes draws it with its Heading, an <h1>, and
# `as_` on the title would only become CSS. The page's own title is the one <h1>.
H2_TITLE = {"as": "h2"}

_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "padding": "0",
    "margin": "-1px",
    "overflow": "hidden",
    "clip": "rect(0, 0, 0, 0)",
    "white_space": "nowrap",
    "border": "0",
}


def return_focus() -> dict[str, Any]:
    """Props for `rx.dialog.content` / `rx.alert_dialog.content`: focus goes back to the opener."""
    return {"on_open_auto_focus": _REMEMBER_OPENER, "on_close_auto_focus": _RETURN_FOCUS}


def visually_hidden(text: str) -> rx.Component:
    """Text for screen readers only (a table's actions column needs a header too)."""
    return rx.el.span(text, style=_HIDDEN)


def describe_errors(control: rx.Component, error_id: str, has_error: Any) -> rx.Component:
    """Mark `control` invalid while its error shows, and point it at the error's element (whose
    own role="alert" announces it when it appears)."""
    control.custom_attrs["aria-invalid"] = rx.cond(has_error, "true", "false")
    control.custom_attrs["aria-describedby"] = rx.cond(has_error, error_id, "")
    return control


def labelled_upload(
    label: str, *children: rx.Component, plain: bool = False, **props
) -> rx.Component:
    """`rx.upload` (`rx.upload.root` when `plain`) whose hidden file input has a name: Reflex
    builds the input (the drop zone's first child) with no way to pass it attributes, and screen
    readers and axe still reach it."""
    upload = (rx.upload.root if plain else rx.upload)(*children, **props)
    zone = upload.children[0]
    file_input = zone.children[0]
    file_input.custom_attrs["aria-label"] = label
    return upload
