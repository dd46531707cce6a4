"""A live picture of the widget: the bubble and the open panel, drawn from unsaved form values.

Settings (appearance) and Connect show it, so a business owner sees the colour, position, button
text, avatar, name, welcome message and starter questions before saving or embedding. It mirrors
the real widget (widget/src): black or white text on the accent colour, whichever contrasts more
(`text_on`, the same WCAG rule as widget/src/color.js).
"""

from __future__ import annotations

import re

import reflex as rx

DEFAULT_ACCENT = "#4f46e5"


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def safe_accent(value: str) -> str:
    """The colour as the widget would use it: #rrggbb, or the default for anything else."""
    value = (value or "").strip()
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else DEFAULT_ACCENT


def text_on(accent: str) -> str:
    """Black or white, whichever reads better on the accent colour (WCAG contrast ratio)."""
    accent = safe_accent(accent)
    return "#ffffff" if _contrast(accent, "#ffffff") >= _contrast(accent, "#000000") else "#000000"


def _avatar(avatar_url, size: str) -> rx.Component:
    return rx.cond(
        avatar_url != "",
        rx.image(
            src=avatar_url,
            alt="",
            width=size,
            height=size,
            border_radius="50%",
            object_fit="cover",
            class_name="preview-avatar",
        ),
        rx.icon("message-circle", size=20),
    )


def _placement(position) -> dict:
    """left/right/transform for the widget's corner: bottom-right, bottom-left or centred."""
    left = position == "bottom-left"
    centered = (position != "bottom-left") & (position != "bottom-right")
    return {
        "left": rx.cond(left, "14px", rx.cond(centered, "50%", "auto")),
        "right": rx.cond(left | centered, "auto", "14px"),
        "transform": rx.cond(centered, "translateX(-50%)", "none"),
    }


def _bubble(*, accent, text_color, position, show_text, button_text, avatar_url) -> rx.Component:
    labelled = show_text & (button_text != "")
    return rx.hstack(
        _avatar(avatar_url, "28px"),
        rx.cond(labelled, rx.text(button_text, weight="bold", size="2", id="preview-button-text")),
        id="preview-bubble",
        position="absolute",
        bottom="14px",
        **_placement(position),
        align="center",
        justify="center",
        spacing="2",
        min_width="52px",
        height="52px",
        padding_x=rx.cond(labelled, "16px", "0"),
        border_radius="26px",
        background_color=accent,
        color=text_color,
        box_shadow="0 4px 16px rgba(0,0,0,.24)",
    )


def _panel(*, name, welcome, starters, avatar_url, accent, text_color, position) -> rx.Component:
    return rx.box(
        rx.hstack(
            _avatar(avatar_url, "32px"),
            rx.text(name, weight="bold", size="3", id="preview-name", trim="both"),
            id="preview-header",
            align="center",
            spacing="2",
            padding="12px 14px",
            background_color=accent,
            color=text_color,
        ),
        rx.vstack(
            rx.box(
                rx.text(welcome, size="2", white_space="pre-wrap"),
                id="preview-welcome",
                background_color="#f1f3f5",
                color="#1a1a1a",
                padding="8px 12px",
                border_radius="12px",
                max_width="85%",
            ),
            rx.flex(
                rx.foreach(
                    starters,
                    lambda question: rx.box(
                        rx.text(question, size="1"),
                        class_name="preview-starter",
                        border=f"1px solid {rx.color('gray', 7)}",
                        border_color=accent,
                        color="#1a1a1a",
                        padding="4px 10px",
                        border_radius="14px",
                    ),
                ),
                id="preview-starters",
                wrap="wrap",
                gap="6px",
            ),
            padding="12px",
            spacing="3",
            flex="1",
            overflow="hidden",
        ),
        rx.box(
            rx.text("Type your message...", size="2", color="#6b7280"),
            border_top="1px solid #e5e7eb",
            padding="10px 14px",
        ),
        position="absolute",
        bottom="80px",
        **_placement(position),
        width="min(320px, calc(100% - 28px))",
        height="330px",
        display="flex",
        flex_direction="column",
        background_color="#ffffff",
        border_radius="14px",
        overflow="hidden",
        box_shadow="0 8px 28px rgba(0,0,0,.18)",
        id="preview-panel",
    )


def widget_preview(
    *,
    name,
    welcome,
    starters,
    avatar_url,
    accent,
    text_color,
    position,
    show_text,
    button_text,
) -> rx.Component:
    """The widget on a blank page; every argument is a Var (or a plain value)."""
    return rx.box(
        rx.text("Preview", size="1", color="#6b7280", position="absolute", top="8px", left="12px"),
        _panel(
            name=name,
            welcome=welcome,
            starters=starters,
            avatar_url=avatar_url,
            accent=accent,
            text_color=text_color,
            position=position,
        ),
        _bubble(
            accent=accent,
            text_color=text_color,
            position=position,
            show_text=show_text,
            button_text=button_text,
            avatar_url=avatar_url,
        ),
        id="widget-preview",
        position="relative",
        width="100%",
        max_width="420px",
        height="500px",
        background="repeating-linear-gradient(45deg, #f8fafc, #f8fafc 12px, #f1f5f9 12px, "
        "#f1f5f9 24px)",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="12px",
        overflow="hidden",
        aria_label="Widget preview",
    )
