"""A bot's export and import (issue 19) on SQLite and PostgreSQL: a bot with one of everything
round-trips into another workspace and answers the same questions with the same citations,
without fetching its web pages again; secrets, conversations and keys stay behind; only owners
and admins move bots, and only within their workspaces; hostile files and a failure half-way
write nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied, TooLarge
from chatapp.services.bots import avatars, bot_export, bot_import, bots
from chatapp.services.bots.transfer_format import BotFileInvalid
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.index.vector_index import close_indexes
from chatapp.services.knowledge.sources import uploads_dir
from chatapp.services.models import Action, AuditEntry, Bot, BotKey, KnowledgeChunk, Role, Source
from tests.utils import bot_transfer as rich
from tests.utils.databases import make_current
from tests.utils.factories import make_tenant
from tests.utils.knowledge import BotKey as WidgetBot
from tests.utils.knowledge import ask
from tests.utils.mutable_site import running_mutable_site


@pytest.fixture
def world(database_url, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")  # the test site and APIs live on loopback
    reset_settings()
    with session_scope() as session:
        return make_tenant(session, "a"), make_tenant(session, "b")


def import_into(tenant, content: bytes, role: Role = Role.OWNER) -> bot_import.ImportResult:
    with session_scope() as session:
        return bot_import.import_bot(session, tenant.actor(role), content)


def answers(bot_id: int, workspace_actor) -> list[tuple[str, list[str]]]:
    """The bot's reply and cited source titles for each of the test's questions."""
    with session_scope() as session:
        _key, plain = bots.create_widget_key(session, workspace_actor, bot_id)
        public_id = session.get_one(Bot, bot_id).public_id
    widget = WidgetBot(public_id, plain)
    replies = [ask(widget, q, origin=rich.ORIGIN) for q in rich.QUESTIONS]
    return [(r.answer, [s["title"] for s in r.sources]) for r in replies]


def test_a_bot_round_trips_with_its_knowledge_answers_and_no_secrets(world):
    a, b = world
    with running_mutable_site(rich.SITE) as site:
        bot_id = rich.make_rich_bot(a, site.base_url)
        before = answers(bot_id, a.owner)  # also a conversation the file must not carry
        made = rich.export(a, bot_id)
        fetched = len(site.requests)
        result = import_into(b, made.content, Role.ADMIN)
        assert len(site.requests) == fetched  # nothing fetched again: the passages came along
    new_id = result.bot.id
    content = made.content.decode()
    document = json.loads(content)
    assert document["size_bytes"] == made.size_bytes == len(made.content)
    assert made.contents == {
        "sources": 5,
        "pages": 2,
        "passages": 5,
        "files": 1,
        "actions": 3,
        "audiences": 1,
    }
    assert (result.sources, result.pages, result.passages, result.queued) == (5, 2, 5, 1)
    assert result.bot.workspace_id == b.workspace.id and result.bot.name == "Bot a"

    assert rich.settings_of(new_id) == rich.settings_of(bot_id)
    assert rich.knowledge_of(new_id) == rich.knowledge_of(bot_id)
    with session_scope() as session:
        used = [sources.storage_use(session, t.owner, i) for t, i in ((a, bot_id), (b, new_id))]
        new_bot = session.get_one(Bot, new_id)
        stored_file = session.exec(
            select(Source).where(Source.bot_id == new_id, Source.kind == "file")
        ).one()
        gone = session.exec(
            select(Source.status).where(Source.bot_id == new_id, Source.kind == "url")
        ).all()
    assert used[0] == used[1]
    assert Path(stored_file.meta["path"]).read_bytes() == rich.CARE
    assert gone == ["queued"]  # exported untrained: trained again here
    assert avatars.stored_avatar_path(new_bot.avatar_url).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert answers(new_id, b.owner) == before
    assert all(cited for _answer, cited in before), before

    # What stays behind: every secret typed into the actions, the conversation, keys.
    for secret in rich.SECRETS:
        assert secret not in content
    assert rich.QUESTIONS[0] not in content and "conversations" not in document
    with session_scope() as session:
        key_hashes = session.exec(select(BotKey.key_hash).where(BotKey.bot_id == bot_id)).all()
    assert key_hashes and not any(h in content for h in key_hashes)
    assert sorted(result.to_fill_in) == [
        "Collect lead: webhook_url (a webhook address often carries its own token)",
        "Order status: headers.Authorization (the value of a secret header)",
        "Order status: headers.X-Api-Key (a value whose name says it is a key or token)",
        "Order status: url?api_key (a value whose name says it is a key or token)",
    ]
    old, new = rich.actions_of(bot_id), rich.actions_of(new_id)
    assert [new[k].enabled for k in ("collect_lead", "http", "link")] == [False, False, True]
    assert new["link"].config == old["link"].config
    assert new["collect_lead"].config == {**old["collect_lead"].config, "webhook_url": ""}
    http = new["http"].config
    assert http["url"].endswith("?api_key=&lang=en")
    assert {h["name"]: (h["value"], h["secret"]) for h in http["headers"]} == {
        "X-Api-Key": ("", False),
        "Accept-Language": ("en", False),
        "Authorization": ("", True),
    }
    assert {k: v for k, v in http.items() if k not in ("url", "headers")} == {
        k: v for k, v in old["http"].config.items() if k not in ("url", "headers")
    }


def test_a_bot_moves_to_another_installation(sqlite_url, migrated_templates, monkeypatch, tmp_path):
    """SQLite to PostgreSQL, another data directory and another secret key: the same answers."""
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with session_scope() as session:
        a = make_tenant(session, "a")
    with running_mutable_site(rich.SITE) as site:
        bot_id = rich.make_rich_bot(a, site.base_url)
        before = answers(bot_id, a.owner)
        content = rich.export(a, bot_id).content
    knowledge = rich.knowledge_of(bot_id)
    with migrated_templates.postgres() as other_database:
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "other-installation"))
        close_indexes()  # the other installation's process starts with no index in memory
        make_current(other_database, monkeypatch)
        with session_scope() as session:
            b = make_tenant(session, "b")
        result = import_into(b, content)
        assert answers(result.bot.id, b.owner) == before
        assert rich.knowledge_of(result.bot.id) == knowledge
        close_indexes()


def test_only_owners_and_admins_move_bots_and_only_their_own(world):
    a, b = world
    with session_scope() as session:
        sources.add_text(session, a.owner, a.bot.id, title="Hours", text=rich.HOURS)
    content = rich.export(a, a.bot.id).content
    with session_scope() as session:
        for role in (Role.AGENT, Role.VIEWER):
            with pytest.raises(PermissionDenied, match="create, change or delete bots"):
                bot_export.export_bot(session, a.actor(role), a.bot.id)
            with pytest.raises(PermissionDenied):
                bot_import.import_bot(session, a.actor(role), content)
        with pytest.raises(NotFound, match="Bot not found"):
            bot_export.export_bot(session, b.owner, a.bot.id)  # A's bot from B: not there
    imported = import_into(b, content)
    with session_scope() as session:
        assert [x.name for x in bots.list_bots(session, a.owner)] == ["Bot a"]
        assert {x.id for x in bots.list_bots(session, b.owner)} == {b.bot.id, imported.bot.id}
        copied = session.exec(select(Source).where(Source.bot_id == imported.bot.id)).all()
        assert [s.workspace_id for s in copied] == [b.workspace.id]
        entries = session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "bot"))
        assert {"bot.export", "bot.import"} <= set(entries)


def test_the_file_states_its_size_and_names_do_not_clash(world, monkeypatch):
    a, _b = world
    made = rich.export(a, a.bot.id)
    assert json.loads(made.content)["size_bytes"] == len(made.content)
    names = [import_into(a, made.content).bot.name for _ in range(2)]
    assert names == ["Bot a (2)", "Bot a (3)"]
    monkeypatch.setenv("BOT_TRANSFER_MAX_MB", str(len(made.content) / 2 / 1024 / 1024))
    reset_settings()
    with pytest.raises(TooLarge, match="BOT_TRANSFER_MAX_MB"):
        rich.export(a, a.bot.id)


def _counts(workspace_id: int) -> tuple[int, ...]:
    with session_scope() as session:
        return tuple(
            session.exec(select(func.count()).where(model.workspace_id == workspace_id)).one()
            for model in (Bot, Source, KnowledgeChunk, Action, AuditEntry)
        )


def _files() -> set[Path]:
    return {p for p in uploads_dir().parent.rglob("*") if p.is_file()}


def small_bot(tenant) -> bytes:
    """A bot file with an avatar, a text, a file and an action with a secret header."""
    owner, bot_id = tenant.owner, tenant.bot.id
    with session_scope() as session:
        avatars.set_avatar(session, owner, bot_id, rich.picture())
        sources.add_text(session, owner, bot_id, title="Hours", text=rich.HOURS)
        sources.add_file(session, owner, bot_id, filename="care.md", data=rich.CARE)
        rich.store.create_action(session, owner, bot_id, kind="http", name="Order status")
    rich.worker.run_until_idle()
    return rich.export(tenant, bot_id).content


def _edit(change):
    """A case that changes the exported document, then writes it back as JSON."""

    def make(raw: bytes) -> bytes:
        document = json.loads(raw)
        change(document)
        return json.dumps(document).encode()

    return make


def _file_source(document: dict) -> dict:
    return next(s for s in document["sources"] if s["kind"] == "file")


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


PROGRAM = base64.b64encode(b"MZ\x90\x00" + bytes(range(256)) * 8).decode()
LEAD = {"kind": "collect_lead", "name": "Lead", "enabled": True, "config": {}}
HOSTILE = {
    "cut short": (lambda raw: raw[: len(raw) // 2], "not valid JSON (line"),
    "not UTF-8": (lambda raw: raw.decode().encode("utf-16"), "not UTF-8"),
    "nested beyond the parser": (lambda raw: b"[" * 200_000, "nested too deeply"),
    "a number of 5,000 digits": (
        lambda raw: raw.replace(b'"version": 1', b'"version": ' + b"9" * 5000),
        "cannot be read",
    ),
    "another format": (
        _edit(lambda d: d.update(format="chatapp-workspace-backup")),
        "not a Chatapp bot file",
    ),
    "a newer version": (
        _edit(lambda d: d.update(version=2)),
        "format version 2, made by a newer Chatapp",
    ),
    "an unknown field": (_edit(lambda d: d.update(colour="red")), "colour: unknown field"),
    "an unknown source field": (
        _edit(lambda d: d["sources"][0].update(titel="x")),
        "source 1 > titel: unknown field",
    ),
    "an unknown source kind": (
        _edit(lambda d: d["sources"][0].update(kind="video")),
        "source 1: a source's kind is one of",
    ),
    "a bad colour": (
        _edit(lambda d: d["bot"].update(accent_color="red")),
        "bot > accent_color: accent colour must look like #4f46e5",
    ),
    "a NUL in a title": (
        _edit(lambda d: d["sources"][0].update(title="a\x00b")),
        "must not contain NUL",
    ),
    "deep nesting": (_edit(lambda d: d["bot"].update(audiences=_nested(60))), "nested too deeply"),
    "text over the limit": (
        _edit(lambda d: d["sources"][0].update(text="x" * 50_001)),
        "The text is 50,001 characters long",
    ),
    "a script as citation link": (
        _edit(lambda d: d["sources"][0]["passages"][0].update(url="javascript:alert(1)")),
        "passage 1 > url: Use a web address",
    ),
    "bad base64": (
        _edit(lambda d: _file_source(d).update(data_base64="%%%")),
        "care.md': its data is not valid base64",
    ),
    "a program named .md": (
        _edit(lambda d: _file_source(d).update(data_base64=PROGRAM)),
        "source 2 (file) 'care.md'",
    ),
    "an avatar that is no picture": (
        _edit(lambda d: d["avatar"].update(data_base64="aGVsbG8=")),
        "avatar: This file is not a picture",
    ),
    "a stored avatar's address": (
        _edit(lambda d: d["bot"].update(avatar_url="/api/public/avatars/" + "a" * 20 + ".png")),
        "bot > avatar_url",
    ),
    "two lead forms": (
        _edit(lambda d: d["actions"].extend([LEAD, LEAD])),
        "a bot has one 'Collect lead' action",
    ),
    "an action that cannot run": (
        _edit(lambda d: d["actions"][0]["config"].update(method="FETCH")),
        "action 1 (Order status) > method: Choose one of",
    ),
}


def test_hostile_files_are_refused_in_words_and_write_nothing(world, monkeypatch):
    a, b = world
    raw = small_bot(a)
    before, files = _counts(b.workspace.id), _files()
    for name, (make, words) in HOSTILE.items():
        with pytest.raises(BotFileInvalid) as refused:
            import_into(b, make(raw))
        assert any(words in problem for problem in refused.value.problems), (name, refused.value)
    monkeypatch.setenv("BOT_STORAGE_LIMIT_MB", "0.0002")  # ~210 bytes: the text and file are ~270
    reset_settings()
    with pytest.raises(BotFileInvalid, match="BOT_STORAGE_LIMIT_MB"):
        import_into(b, raw)
    monkeypatch.setenv("BOT_TRANSFER_MAX_MB", "0.001")
    reset_settings()
    with pytest.raises(TooLarge, match=r"at most 0\.001 MB \(BOT_TRANSFER_MAX_MB\)"):
        import_into(b, raw)
    assert _counts(b.workspace.id) == before and _files() == files


def test_a_failure_half_way_leaves_nothing_behind(world):
    a, b = world
    raw = small_bot(a)
    before, files = _counts(b.workspace.id), _files()
    # The new bot's file cannot be stored: its folder's place is taken by a file. The bot, its
    # avatar, its text source and that source's passages are written by then.
    uploads_dir().mkdir(parents=True, exist_ok=True)
    blocker = uploads_dir() / str(b.workspace.id)
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        import_into(b, raw)
    assert _counts(b.workspace.id) == before
    assert _files() == files | {blocker}  # the avatar written on the way was removed again
    blocker.unlink()
    assert import_into(b, raw).sources == 2  # and nothing stands in the way of the next try
