"""Bot avatars: a picture checked by its content, shrunk to 64x64 and served to any website.

Why a service of its own: an uploaded file is hostile until proven otherwise. The bytes must be a
PNG, JPEG or GIF by their signature *and* decode as one (a script renamed `.png` is neither), small
(<= 500 KB), and of sane dimensions before anything is decoded (a decompression bomb is a tiny file
that claims a huge picture). Only the re-encoded 64x64 copy is stored, under a random name in the
data directory, so nothing the uploader wrote is ever served back. A new avatar replaces the old
file; the widget shows it on other sites through `routes_avatars.py`.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import Session

from chatapp.core.config import get_settings
from chatapp.core.errors import NotFound, ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.models import Bot, utcnow

MAX_AVATAR_BYTES = 500 * 1024
AVATAR_SIZE = 64
MAX_SOURCE_PIXELS = 4096 * 4096  # larger pictures are refused before they are decoded
URL_PREFIX = "/api/public/avatars/"


@dataclass(frozen=True)
class AvatarFormat:
    pillow: str  # Pillow's format name
    extension: str
    content_type: str
    signatures: tuple[bytes, ...]


FORMATS = (
    AvatarFormat("PNG", "png", "image/png", (b"\x89PNG\r\n\x1a\n",)),
    AvatarFormat("JPEG", "jpg", "image/jpeg", (b"\xff\xd8\xff",)),
    AvatarFormat("GIF", "gif", "image/gif", (b"GIF87a", b"GIF89a")),
)
BY_EXTENSION = {fmt.extension: fmt for fmt in FORMATS}
FILE_NAME = re.compile(r"[A-Za-z0-9_-]{16,64}\.(png|jpg|gif)")
REFUSED = "Upload a PNG, JPEG or GIF picture."
TOO_MANY_PIXELS = "Use a picture of at most 4096x4096 pixels."


def avatars_dir() -> Path:
    return get_settings().data_dir / "avatars"


def _format_of(data: bytes) -> AvatarFormat:
    for fmt in FORMATS:
        if data.startswith(fmt.signatures):
            return fmt
    raise ValidationFailed(f"This file is not a picture. {REFUSED}")


def shrink(data: bytes) -> tuple[bytes, AvatarFormat]:
    """The checked picture re-encoded at 64x64 (centre-cropped), in the format it really is."""
    if not data:
        raise ValidationFailed(f"The file is empty. {REFUSED}")
    if len(data) > MAX_AVATAR_BYTES:
        raise ValidationFailed(
            f"The picture is larger than {MAX_AVATAR_BYTES // 1024} KB: use a smaller one."
        )
    fmt = _format_of(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt.pillow])
            width, height = image.size
            if width * height > MAX_SOURCE_PIXELS:
                raise ValidationFailed(f"The picture is {width}x{height} pixels. {TOO_MANY_PIXELS}")
            image.seek(0)  # a GIF's first frame
            image.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise ValidationFailed(f"This file is not a readable picture. {REFUSED}") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise ValidationFailed(f"This picture is damaged. {REFUSED}") from None
    return _encode(image, fmt), fmt


def _encode(image: Image.Image, fmt: AvatarFormat) -> bytes:
    mode = "RGB" if fmt.pillow == "JPEG" else "RGBA"
    small = ImageOps.fit(image.convert(mode), (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    if fmt.pillow == "GIF":
        small = small.convert("P", palette=Image.Palette.ADAPTIVE)
    out = io.BytesIO()
    small.save(out, format=fmt.pillow)
    return out.getvalue()


def stored_avatar_path(url: str) -> Path | None:
    """The stored file behind an avatar URL this service made, else None (external URLs)."""
    if not url.startswith(URL_PREFIX):
        return None
    name = url[len(URL_PREFIX) :]
    return avatars_dir() / name if FILE_NAME.fullmatch(name) else None


def set_avatar(session: Session, actor: Actor, bot_id: int, data: bytes) -> Bot:
    """Check, shrink and store a new avatar for the bot; the previous file is removed."""
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    small, fmt = shrink(data)  # refusals happen here, before anything is written
    folder = avatars_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(18)}.{fmt.extension}"
    partial = path.with_suffix(".part")
    partial.write_bytes(small)
    partial.replace(path)
    old = stored_avatar_path(bot.avatar_url)
    bot.avatar_url = URL_PREFIX + path.name
    bot.updated_at = utcnow()
    session.add(bot)
    try:
        session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    if old is not None:
        old.unlink(missing_ok=True)
    return bot


def remove_avatar(session: Session, actor: Actor, bot_id: int) -> Bot:
    """Back to the widget's default icon; the stored file goes."""
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    old = stored_avatar_path(bot.avatar_url)
    bot.avatar_url = ""
    bot.updated_at = utcnow()
    session.add(bot)
    session.flush()
    if old is not None:
        old.unlink(missing_ok=True)
    return bot


def avatar_file(name: str) -> tuple[Path, str]:
    """The file and content type for a public avatar name; NotFound for anything else."""
    path = stored_avatar_path(URL_PREFIX + (name or ""))
    if path is None or not path.is_file():
        raise NotFound("Avatar not found.")
    return path, BY_EXTENSION[path.suffix[1:]].content_type
