"""Settings in a real browser against the production build: the live preview, avatars, field
errors, roles, the workspace backup and changing one's password."""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots, providers
from chatapp.services.models import Bot, BotKey, User, Workspace
from tests.e2e.dashboard_helpers import log_in, log_out, new_tenant, open_section, screenshot
from tests.utils.factories import PASSWORD

pytestmark = pytest.mark.e2e

# An upload is a round trip with a body: under a loaded machine it takes longer than expect's 5 s.
UPLOAD_TIMEOUT = 20_000


def db(app_server):
    return session_scope(get_engine(app_server.database_url))


def saved_bot(app_server, bot_id: int) -> Bot:
    with db(app_server) as session:
        bot = session.get(Bot, bot_id)
        session.expunge(bot)
        return bot


def open_settings(page, email: str, tab: str = "bot") -> None:
    log_in(page, email)
    open_section(page, "Settings")
    page.click(f"#tab-{tab}")


def png(size=(200, 120), color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def test_the_preview_follows_the_accent_colour_and_position_before_saving(page, app_server):
    label, tenant = new_tenant(app_server)
    open_settings(page, f"owner-{label}@example.com", "appearance")
    bubble = page.locator("#preview-bubble")
    expect(bubble).to_have_css("background-color", "rgb(79, 70, 229)")  # the default #4f46e5
    expect(bubble).to_have_css("color", "rgb(255, 255, 255)")

    page.locator("#field-accent_color").fill("#ffd400")  # light: black text, like the widget
    expect(bubble).to_have_css("background-color", "rgb(255, 212, 0)")
    expect(bubble).to_have_css("color", "rgb(0, 0, 0)")
    expect(page.locator("#preview-header")).to_have_css("background-color", "rgb(255, 212, 0)")

    page.click("#field-position")
    page.get_by_role("option", name="Bottom left").click()
    expect(bubble).to_have_css("left", "14px")
    page.click("#field-show_button_text")
    page.fill("#field-button_text", "Ask us")
    expect(page.locator("#preview-button-text")).to_have_text("Ask us")
    assert saved_bot(app_server, tenant.bot.id).accent_color == "#4f46e5"  # not saved yet

    page.click("#save-appearance")
    expect(page.get_by_text("Appearance saved.")).to_be_visible()
    bot = saved_bot(app_server, tenant.bot.id)
    assert (bot.accent_color, bot.position, bot.show_button_text, bot.button_text) == (
        "#ffd400",
        "bottom-left",
        True,
        "Ask us",
    )
    config = httpx.get(f"{app_server.base_url}/api/public/bots/{bot.public_id}/config").json()
    assert config["accent_color"] == "#ffd400" and config["button_text"] == "Ask us"


def test_avatar_upload_refuses_a_non_image_and_uses_a_real_png_at_64x64(page, app_server):
    label, tenant = new_tenant(app_server)
    avatars_dir = Path(app_server.database_url.removeprefix("sqlite:///")).parent / "avatars"
    before = set(avatars_dir.glob("*")) if avatars_dir.exists() else set()
    open_settings(page, f"admin-{label}@example.com", "appearance")
    upload = page.locator("#avatar-upload input[type=file]")

    upload.set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": b"<script>alert(1)</script>"}
    )
    expect(page.locator("#error-avatar")).to_contain_text(
        "This file is not a picture", timeout=UPLOAD_TIMEOUT
    )
    assert saved_bot(app_server, tenant.bot.id).avatar_url == ""
    assert (set(avatars_dir.glob("*")) if avatars_dir.exists() else set()) == before

    too_big = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(600 * 1024)
    upload.set_input_files({"name": "big.png", "mimeType": "image/png", "buffer": too_big})
    expect(page.locator("#error-avatar")).to_contain_text(
        "larger than 500 KB", timeout=UPLOAD_TIMEOUT
    )
    upload.set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    expect(page.locator("#error-avatar")).to_contain_text(
        "Upload a PNG, JPEG or GIF picture", timeout=UPLOAD_TIMEOUT
    )
    assert (set(avatars_dir.glob("*")) if avatars_dir.exists() else set()) == before

    upload.set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": png()})
    expect(page.get_by_text("Avatar saved.")).to_be_visible(timeout=UPLOAD_TIMEOUT)
    expect(page.locator("#error-avatar")).to_have_count(0, timeout=UPLOAD_TIMEOUT)
    expect(page.locator("#avatar-image")).to_have_attribute(
        "src", re.compile(r"^/api/public/avatars/[\w-]+\.png$")
    )
    expect(page.locator("#preview-bubble img")).to_be_visible()  # the preview uses it too
    url = saved_bot(app_server, tenant.bot.id).avatar_url
    response = httpx.get(app_server.base_url + url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (64, 64)
    screenshot(page, "settings")


def test_bot_settings_show_errors_next_to_the_fields_then_save(page, app_server):
    label, tenant = new_tenant(app_server)
    open_settings(page, f"owner-{label}@example.com")
    expect(page.locator("#field-name")).to_have_value(f"Bot {label}")
    expect(page.locator("#usage-label")).to_contain_text("0 / ")
    page.fill("#field-name", "   ")
    page.fill("#field-starters_text", "\n".join(f"Question {n}?" for n in range(7)))
    page.fill("#field-temperature", "5")
    page.click("#save-bot")
    expect(page.locator("#error-name")).to_have_text("Name cannot be empty.")
    expect(page.locator("#error-starters_text")).to_have_text("At most 6 starter questions.")
    expect(page.locator("#error-temperature")).to_have_text("Use at most 2.0.")
    assert saved_bot(app_server, tenant.bot.id).name == f"Bot {label}"

    page.fill("#field-name", "Helpful Hannah")
    expect(page.locator("#error-name")).to_have_count(0)  # editing clears the field's error
    page.fill("#field-starters_text", "Where are you?\n\nWhen do you open?")
    page.fill("#field-temperature", "0.7")
    page.fill("#field-instructions", "Be brief and friendly.")
    page.fill("#field-message_limit", "250")
    page.click("#save-bot")
    expect(page.get_by_text("Bot settings saved.")).to_be_visible()
    bot = saved_bot(app_server, tenant.bot.id)
    assert bot.name == "Helpful Hannah" and bot.instructions == "Be brief and friendly."
    assert bot.starter_questions == ["Where are you?", "When do you open?"]
    assert (bot.temperature, bot.message_limit) == (0.7, 250)
    expect(page.locator("#bot-switcher")).to_contain_text("Helpful Hannah")
    page.click("#tab-appearance")
    expect(page.locator("#preview-name")).to_have_text("Helpful Hannah")
    expect(page.locator("#preview-starters .preview-starter")).to_have_count(2)


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_viewers_and_agents_read_settings_but_cannot_save(page, app_server, role):
    label, tenant = new_tenant(app_server)
    open_settings(page, f"{role}-{label}@example.com")
    expect(page.locator("#read-only-note")).to_be_visible()
    expect(page.locator("#field-name")).to_have_value(f"Bot {label}")
    expect(page.locator("#field-name")).to_have_attribute("readonly", "")
    expect(page.locator("#save-bot")).to_have_count(0)
    page.click("#tab-appearance")
    expect(page.locator("#preview-bubble")).to_be_visible()
    expect(page.locator("#save-appearance")).to_have_count(0)
    expect(page.locator("#avatar-upload")).to_have_count(0)
    expect(page.locator("#field-accent_color")).to_be_disabled()
    page.click("#tab-workspace")
    expect(page.locator("#team-link")).to_be_visible()
    for hidden in ("#save-workspace-name", "#save-default-limit", "#provider-card"):
        expect(page.locator(hidden)).to_have_count(0)
    expect(page.locator("#download-backup")).to_have_count(0)
    assert saved_bot(app_server, tenant.bot.id).updated_at == tenant.bot.updated_at


def test_backup_download_holds_the_bot_and_a_conversation_and_no_secret(page, app_server):
    label, tenant = new_tenant(app_server)
    question = f"Do you sell gift cards {secrets.token_hex(3)}?"
    with db(app_server) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        providers.set_provider(session, tenant.owner, api_key="sk-never-in-a-backup-1234")
    answer = httpx.post(
        f"{app_server.base_url}/api/chat",
        json={"bot_id": tenant.bot.public_id, "api_key": key, "message": question, "stream": False},
        timeout=60,
    )
    assert answer.status_code == 200
    with db(app_server) as session:
        secret_values = [k.key_hash for k in session.exec(select(BotKey)).all()]
        secret_values += [u.password_hash for u in session.exec(select(User)).all()]
        secret_values.append(session.get(Workspace, tenant.workspace.id).llm_api_key_encrypted)

    open_settings(page, f"owner-{label}@example.com", "workspace")
    with page.expect_download() as download:
        page.click("#download-backup")
    assert download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.value.path()) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    [bot] = json.loads(files["bots.json"])
    assert bot["public_id"] == tenant.bot.public_id
    [conversation] = [json.loads(line) for line in files["conversations.jsonl"].splitlines()]
    assert conversation["messages"][0]["content"] == question
    assert conversation["messages"][1]["role"] == "assistant"
    everything = "\n".join(files.values())
    for secret in [*secret_values, key, "sk-never-in-a-backup-1234", PASSWORD]:
        assert secret not in everything


def test_changing_the_password_in_settings_retires_the_old_one(page, app_server):
    label, _ = new_tenant(app_server)
    email, new_password = f"admin-{label}@example.com", "a brand new passphrase"
    open_settings(page, email, "account")
    page.fill("#current-password", PASSWORD)
    page.fill("#new-password", new_password)
    page.fill("#confirm", new_password)
    page.click("#change-password")
    expect(page.get_by_text("Password changed.")).to_be_visible()
    log_out(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#form-error")).to_be_visible()  # the old password is refused
    log_in(page, email, new_password)


def test_settings_fit_a_phone(page, app_server):
    label, _ = new_tenant(app_server)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, f"owner-{label}@example.com")
    page.goto("/settings")
    for tab in ("bot", "appearance", "workspace", "account"):
        page.click(f"#tab-{tab}")
        expect(page.locator(f"#tab-{tab}")).to_have_attribute("data-state", "active")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the {tab} tab is {width}px wide on a 390px screen"


def test_workspace_name_default_limit_and_a_provider_key_never_shown_again(page, app_server):
    label, tenant = new_tenant(app_server)
    provider_key = f"sk-live-{secrets.token_hex(8)}"
    open_settings(page, f"owner-{label}@example.com", "workspace")
    expect(page.locator("#provider-status")).to_contain_text("offline")

    page.fill("#field-new_workspace_name", "")
    page.click("#save-workspace-name")
    expect(page.locator("#error-new_workspace_name")).to_have_text("Give the workspace a name.")
    page.fill("#field-new_workspace_name", f"Renamed {label}")
    page.click("#save-workspace-name")
    expect(page.locator("#workspace-switcher")).to_contain_text(f"Renamed {label}")

    page.fill("#field-default_limit", "-5")
    page.click("#save-default-limit")
    expect(page.locator("#error-default_limit")).to_have_text("Use a number from 0 to 10,000,000.")
    page.fill("#field-default_limit", "123")
    page.click("#save-default-limit")
    expect(page.get_by_text("Default limit for new bots saved.")).to_be_visible()

    page.fill("#provider-key", provider_key)
    page.fill("#provider-model", "gpt-test")
    page.click("#save-provider")
    expect(page.locator("#provider-status")).to_contain_text("This workspace's own provider")
    expect(page.get_by_text(f"key ...{provider_key[-4:]}", exact=False)).to_be_visible()
    expect(page.locator("#provider-key")).to_have_value("")  # never shown again
    assert provider_key not in page.content()
    with db(app_server) as session:
        workspace = session.get(Workspace, tenant.workspace.id)
        assert workspace.name == f"Renamed {label}" and workspace.default_message_limit == 123
        assert workspace.llm_model == "gpt-test"
        assert (
            workspace.llm_api_key_encrypted and provider_key not in workspace.llm_api_key_encrypted
        )

    page.click("#clear-provider")
    expect(page.locator("#provider-status")).to_contain_text("offline")
