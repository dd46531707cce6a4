"""Settings > Audiences & routing tab: description, router switch, audiences editor."""

from __future__ import annotations

import reflex as rx

from chatapp.components.forms import field_label
from chatapp.state.settings_routing import RoutingSettingsState as R

READ_ONLY = ~R.is_manager


def _error(field: str) -> rx.Component:
    return rx.cond(
        R.errors.contains(field),
        rx.text(R.errors[field], color_scheme="red", size="2", id=f"error-{field}", role="alert"),
    )


def audience_card(audience: rx.Var, index: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.input(
                    value=audience["label"],
                    on_change=lambda v: R.set_audience_field(index, "label", v),
                    placeholder="Label, e.g. Recruiter",
                    aria_label="Audience label",
                    class_name="audience-label",
                    name="label-" + index.to_string(),
                    read_only=READ_ONLY,
                    max_length=40,
                    width="100%",
                ),
                rx.cond(
                    R.is_manager,
                    rx.button(
                        rx.icon("trash-2", size=14),
                        variant="ghost",
                        color_scheme="red",
                        aria_label="Remove audience",
                        class_name="audience-remove",
                        on_click=R.remove_audience(index),
                        type="button",
                    ),
                ),
                width="100%",
                align="center",
            ),
            rx.text_area(
                value=audience["instructions"],
                on_change=lambda v: R.set_audience_field(index, "instructions", v),
                placeholder="Extra instructions for this audience (what to stress, tone).",
                aria_label="Audience instructions",
                class_name="audience-instructions",
                name="instructions-" + index.to_string(),
                read_only=READ_ONLY,
                rows="3",
                width="100%",
            ),
            rx.text_area(
                value=audience["starters"],
                on_change=lambda v: R.set_audience_field(index, "starters", v),
                placeholder="Starter questions for this audience, one per line (optional).",
                aria_label="Audience starter questions",
                class_name="audience-starters",
                name="starters-" + index.to_string(),
                read_only=READ_ONLY,
                rows="2",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        class_name="audience-card",
        width="100%",
    )


def routing_tab() -> rx.Component:
    """One form: the save reads every text as submitted with the click."""
    return rx.form(_routing_fields(), on_submit=R.save, no_validate=True, width="100%")


def _routing_fields() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            field_label("Description", "field-description", weight="medium"),
            rx.text_area(
                value=R.description,
                on_change=R.set_description,
                read_only=READ_ONLY,
                id="field-description",
                name="description",
                rows="2",
                max_length=500,
                width="100%",
                placeholder="What this bot is for, e.g. 'Invoices, refunds and plans'.",
            ),
            rx.text(
                "A router bot sends each question to the bot whose description fits.",
                size="1",
                color_scheme="gray",
            ),
            _error("description"),
            spacing="1",
            width="100%",
        ),
        rx.hstack(
            rx.switch(
                checked=R.is_router,
                on_change=R.set_is_router,
                disabled=READ_ONLY,
                id="field-is_router",
            ),
            field_label("Router bot: route each message to another bot", "field-is_router"),
            align="center",
        ),
        rx.cond(
            R.is_router,
            rx.callout(
                rx.cond(
                    R.routes_to.length() > 0,
                    rx.text("Routes to: ", rx.foreach(R.routes_to, lambda n: rx.badge(n, mr="1"))),
                    rx.text(
                        "No other active bot of this workspace has a description yet: "
                        "give each specialised bot one."
                    ),
                ),
                icon="split",
                id="routes-to",
            ),
        ),
        rx.heading("Audiences", size="3", margin_top="0.5em", as_="h2"),
        rx.text(
            "Who your visitors are (e.g. recruiter, hiring manager, peer). The widget shows each "
            "label as a quick reply at the start; the choice shapes the answers.",
            size="1",
            color_scheme="gray",
        ),
        _error("audiences"),
        rx.foreach(R.audiences, audience_card),
        rx.cond(
            R.is_manager,
            rx.hstack(
                rx.button(
                    rx.icon("plus", size=14),
                    "Add audience",
                    variant="soft",
                    on_click=R.add_audience,
                    id="add-audience",
                    type="button",
                ),
                rx.button("Save audiences and routing", type="submit", id="save-routing"),
                spacing="3",
            ),
        ),
        spacing="3",
        width="100%",
        max_width="640px",
    )
