"""The Sources section's ways to add knowledge: files, text, Q&A pairs, one URL, a whole website.

Each form shows the service's refusal next to the field it is about (`SourcesState.errors`, keyed
"form.field") and is remounted empty (its `key`) after a success.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from chatapp.components.a11y import describe_errors, labelled_upload
from chatapp.core.config import get_settings
from chatapp.state.sources import HINTS, SourcesState

UPLOAD_ID = "sources-upload"
ACCEPTED = "PDF, DOCX, TXT, Markdown or HTML"


def field_error(key: str) -> rx.Component:
    """The message for one field, right under it (empty when the field is fine)."""
    return rx.cond(
        SourcesState.errors.contains(key),
        rx.text(
            SourcesState.errors[key],
            color_scheme="red",
            size="2",
            role="alert",
            id="error-" + key.replace(".", "-"),
        ),
    )


def labelled(
    label: str, control: rx.Component, error_key: str, hint: str | rx.Var = ""
) -> rx.Component:
    shown = isinstance(hint, rx.Var) or bool(hint)
    return rx.vstack(
        rx.el.label(label, html_for=control.id, font_size="0.875rem", font_weight="500"),
        describe_errors(
            control, "error-" + error_key.replace(".", "-"), SourcesState.errors.contains(error_key)
        ),
        *([rx.text(hint, size="1", color_scheme="gray")] if shown else []),
        field_error(error_key),
        spacing="1",
        width="100%",
    )


def _refusals_in_browser(rejected: ArrayVar):
    """Send only "codes:name" per refused file: the File itself (its bytes) must not travel."""

    def describe(item: ObjectVar):
        item = item.to(ObjectVar, dict)
        codes = item["errors"].to(ArrayVar, list[dict]).map(lambda e: e.to(ObjectVar, dict)["code"])
        name = item["file"].to(ObjectVar, dict)["name"].to(str)
        return codes.join(",") + ":" + name

    return SourcesState.refuse_dropped(rejected.to(ArrayVar, list[dict]).map(describe))


def upload_panel() -> rx.Component:
    return rx.vstack(
        rx.box(
            labelled_upload(
                "Files to add",
                rx.vstack(
                    rx.icon("upload", size=28, color=rx.color("accent", 9)),
                    rx.text("Drop files here, or click to choose several at once", weight="medium"),
                    rx.text(
                        ACCEPTED + ", up to " + SourcesState.upload_limit_label + " each.",
                        size="2",
                        color_scheme="gray",
                    ),
                    align="center",
                    spacing="2",
                ),
                id=UPLOAD_ID,
                multiple=True,
                max_size=SourcesState.max_upload_bytes,
                on_drop=SourcesState.upload(
                    rx.upload_files(
                        upload_id=UPLOAD_ID, on_upload_progress=SourcesState.show_upload_progress
                    )
                ),
                on_drop_rejected=_refusals_in_browser,
                border=f"2px dashed {rx.color('gray', 7)}",
                border_radius="0.75em",
                padding="2em 1em",
                width="100%",
                cursor="pointer",
                drag_active_style={"border_color": rx.color("accent", 9)},
            ),
            id="upload-zone",
            width="100%",
        ),
        rx.cond(
            (SourcesState.upload_percent > 0) & (SourcesState.upload_percent < 100),
            rx.progress(
                value=SourcesState.upload_percent, max=100, width="100%", aria_label="Uploading"
            ),
        ),
        rx.cond(
            SourcesState.upload_refusals.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle-alert")),
                rx.vstack(
                    rx.foreach(
                        SourcesState.upload_refusals,
                        lambda message: rx.text(message, size="2", class_name="upload-refusal"),
                    ),
                    spacing="1",
                ),
                color_scheme="red",
                role="alert",
                id="upload-refusals",
                width="100%",
            ),
        ),
        width="100%",
    )


def text_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            labelled(
                "Title",
                rx.input(name="title", id="text-title", placeholder="Optional", width="100%"),
                "text.title",
                HINTS["text.title"],
            ),
            labelled(
                "Text",
                rx.text_area(
                    name="text",
                    id="text-body",
                    rows="8",
                    placeholder="Paste an FAQ, a policy, product details...",
                    width="100%",
                ),
                "text.text",
                SourcesState.text_limit_hint,
            ),
            rx.button("Add text", type="submit", id="add-text"),
            width="100%",
        ),
        on_submit=SourcesState.add_text,
        key=SourcesState.form_versions["text"].to_string(),
        width="100%",
    )


def qa_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            labelled(
                "Question",
                rx.input(
                    name="question",
                    id="qa-question",
                    placeholder="Do you ship abroad?",
                    width="100%",
                ),
                "qa.question",
                HINTS["qa.question"],
            ),
            labelled(
                "Answer",
                rx.text_area(
                    name="answer",
                    id="qa-answer",
                    rows="4",
                    placeholder="Yes, to most of Europe in 3 to 5 days.",
                    width="100%",
                ),
                "qa.answer",
                HINTS["qa.answer"],
            ),
            rx.button("Add pair", type="submit", id="add-qa"),
            width="100%",
        ),
        on_submit=SourcesState.add_qa,
        key=SourcesState.form_versions["qa"].to_string(),
        width="100%",
    )


def url_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            labelled(
                "Page address",
                rx.input(
                    name="url",
                    id="url-address",
                    placeholder="https://example.com/faq",
                    width="100%",
                ),
                "url.url",
                "The text of this one page is read; links are not followed.",
            ),
            rx.button("Add page", type="submit", id="add-url"),
            width="100%",
        ),
        on_submit=SourcesState.add_url,
        key=SourcesState.form_versions["url"].to_string(),
        width="100%",
    )


def website_form() -> rx.Component:
    settings = get_settings()
    return rx.form(
        rx.vstack(
            labelled(
                "Start address or sitemap",
                rx.input(
                    name="url", id="site-address", placeholder="https://example.com", width="100%"
                ),
                "website.url",
                "Pages on the same site are followed from here; robots.txt is respected.",
            ),
            rx.text(
                rx.checkbox(name="use_sitemap", id="site-sitemap", aria_label="This is a sitemap"),
                " This is a sitemap: read the pages it lists instead of following links",
                as_="label",
                size="2",
            ),
            rx.flex(
                labelled(
                    "Pages at most",
                    rx.input(
                        name="max_pages",
                        id="site-max-pages",
                        type="number",
                        default_value=str(settings.crawl_max_pages),
                    ),
                    "website.max_pages",
                ),
                labelled(
                    "Link depth",
                    rx.input(
                        name="max_depth",
                        id="site-max-depth",
                        type="number",
                        default_value=str(settings.crawl_max_depth),
                    ),
                    "website.max_depth",
                ),
                spacing="3",
                direction=rx.breakpoints(initial="column", sm="row"),
                width="100%",
            ),
            rx.flex(
                labelled(
                    "Only addresses containing",
                    rx.text_area(name="include", id="site-include", rows="2", width="100%"),
                    "website.include",
                    HINTS["website.include"],
                ),
                labelled(
                    "Skip addresses containing",
                    rx.text_area(name="exclude", id="site-exclude", rows="2", width="100%"),
                    "website.exclude",
                    HINTS["website.exclude"],
                ),
                spacing="3",
                direction=rx.breakpoints(initial="column", sm="row"),
                width="100%",
            ),
            rx.button("Crawl website", type="submit", id="add-website"),
            width="100%",
        ),
        on_submit=SourcesState.add_website,
        key=SourcesState.form_versions["website"].to_string(),
        width="100%",
    )


def add_sources_card() -> rx.Component:
    """The tabs of ways to add knowledge (only shown to members who may change the bot)."""
    tabs = [
        ("Files", "files", upload_panel),
        ("Text", "text", text_form),
        ("Q&A", "qa", qa_form),
        ("URL", "url", url_form),
        ("Website", "website", website_form),
    ]
    return rx.card(
        rx.tabs.root(
            rx.tabs.list(
                *[
                    rx.tabs.trigger(label, value=value, id=f"tab-{value}")
                    for label, value, _ in tabs
                ],
                wrap="wrap",
            ),
            *[rx.tabs.content(build(), value=value, padding_top="1em") for _, value, build in tabs],
            default_value="files",
            width="100%",
        ),
        width="100%",
        margin_bottom="1.5em",
        id="add-sources",
    )
