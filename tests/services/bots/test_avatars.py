"""Avatars: real pictures are shrunk to 64x64 and served publicly; hostile files are refused with
a readable message and leave nothing behind; the old file goes when a new one comes."""

import io
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from chatapp.api.app import create_api
from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied, ValidationFailed
from chatapp.services.bots import avatars, bots
from chatapp.services.models import Bot, BotUpdate
from tests.utils.factories import make_tenant


def picture(fmt="PNG", size=(300, 200), color=(200, 30, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose header claims width x height (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 64, 9)  # a few rows is enough
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.fixture
def tenant(sqlite_url):
    with session_scope() as session:
        tenant = make_tenant(session, "av")
        session.expunge_all()
    return tenant


def stored_files():
    folder = avatars.avatars_dir()
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif")]
)
def test_a_picture_is_shrunk_to_64x64_and_served_with_its_type(tenant, fmt, content_type):
    with session_scope() as session:
        bot = avatars.set_avatar(session, tenant.owner, tenant.bot.id, picture(fmt))
        url = bot.avatar_url
    assert url.startswith("/api/public/avatars/")
    [path] = stored_files()
    with Image.open(path) as image:
        assert image.size == (64, 64) and image.format == fmt
    with TestClient(create_api()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == path.read_bytes()


HOSTILE = {
    "a script renamed .png": (b"<script>alert(1)</script>", "not a picture"),
    "text": (b"hello, I am a text file" * 10, "not a picture"),
    "an empty file": (b"", "empty"),
    "a PNG signature with garbage": (b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "damaged"),
    "a decompression bomb": (png_claiming(5_000, 5_000), "5000x5000 pixels"),
    "a huge decompression bomb": (png_claiming(60_000, 60_000), "at most 4096x4096"),
    "over 500 KB": (b"\x89PNG\r\n\x1a\n" + b"\x00" * (500 * 1024), "larger than 500 KB"),
    "an SVG": (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "not a picture"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_with_a_reason_and_nothing_is_written(tenant, name):
    data, reason = HOSTILE[name]
    with session_scope() as session:
        with pytest.raises(ValidationFailed) as refused:
            avatars.set_avatar(session, tenant.owner, tenant.bot.id, data)
        assert reason in refused.value.message
        assert session.get(Bot, tenant.bot.id).avatar_url == ""
    assert stored_files() == []


def test_a_new_avatar_replaces_the_old_file_and_removal_deletes_it(tenant):
    with session_scope() as session:
        first = avatars.set_avatar(session, tenant.owner, tenant.bot.id, picture()).avatar_url
    [old] = stored_files()
    with session_scope() as session:
        second = avatars.set_avatar(session, tenant.admin, tenant.bot.id, picture("GIF"))
        assert second.avatar_url != first
    [new] = stored_files()
    assert new != old and not old.exists() and new.suffix == ".gif"
    with session_scope() as session:
        assert avatars.remove_avatar(session, tenant.owner, tenant.bot.id).avatar_url == ""
    assert stored_files() == []
    with TestClient(create_api()) as client:
        assert client.get(first).status_code == 404


def test_agents_viewers_and_other_workspaces_cannot_set_an_avatar(tenant):
    with session_scope() as session:
        other = make_tenant(session, "other")
        for actor in (tenant.agent, tenant.viewer):
            with pytest.raises(PermissionDenied):
                avatars.set_avatar(session, actor, tenant.bot.id, picture())
        with pytest.raises(NotFound):
            avatars.set_avatar(session, other.owner, tenant.bot.id, picture())
    assert stored_files() == []


@pytest.mark.parametrize(
    "name", ["../chatapp.db", "..%2Fchatapp.db", "short.png", "x" * 20 + ".svg", "secret_key"]
)
def test_the_route_serves_only_stored_avatar_names(tenant, name):
    (avatars.avatars_dir()).mkdir(parents=True, exist_ok=True)
    with TestClient(create_api()) as client:
        assert client.get(f"/api/public/avatars/{name}").status_code == 404


def test_deleting_the_bot_deletes_its_avatar_file(tenant):
    with session_scope() as session:
        avatars.set_avatar(session, tenant.owner, tenant.bot.id, picture())
    assert len(stored_files()) == 1
    with session_scope() as session:
        bots.delete_bot(session, tenant.owner, tenant.bot.id)
    assert stored_files() == []


def test_another_bots_stored_avatar_cannot_be_borrowed_and_so_never_deleted(tenant):
    with session_scope() as session:
        theirs = avatars.set_avatar(session, tenant.owner, tenant.bot.id, picture()).avatar_url
        other = make_tenant(session, "borrower")
        with pytest.raises(ValidationFailed, match="another bot's stored avatar"):
            bots.update_bot(session, other.owner, other.bot.id, BotUpdate(avatar_url=theirs))
        bots.delete_bot(session, other.owner, other.bot.id)
    assert avatars.stored_avatar_path(theirs).exists()  # the first workspace's file stays
    with session_scope() as session:  # its own bot may keep it, and drop it for an external one
        kept = bots.update_bot(session, tenant.owner, tenant.bot.id, BotUpdate(avatar_url=theirs))
        assert kept.avatar_url == theirs
        external = "https://cdn.example.com/face.png"
        moved = bots.update_bot(
            session, tenant.owner, tenant.bot.id, BotUpdate(avatar_url=external)
        )
        assert moved.avatar_url == external
