"""`python -m chatapp ...`: operator commands that need no dashboard.

migrate          apply database migrations (the one migration path)
create-admin     create the first admin and a demo workspace (ADMIN_EMAIL / ADMIN_PASSWORD)
reset-password   set a new password for a user and sign them out everywhere
check-config     load the settings and report problems (used before starting in production)
reextract        extract every source again from its stored original (after extraction improves)
purge            delete conversations past their workspace's retention (the worker does it hourly)
backup           `backup create [--out FILE]` / `backup restore FILE [--data-dir DIR] [--force]`
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from chatapp.api.visitors import granian_command
from chatapp.core import migrations
from chatapp.core.config import ConfigError, get_settings, read_settings
from chatapp.core.db import get_engine, session_scope
from chatapp.core.errors import ServiceError
from chatapp.services.accounts import auth, workspaces
from chatapp.services.knowledge import reindex
from chatapp.services.knowledge.index import copy_to_server, migrate_local_qdrant
from chatapp.services.knowledge.index.vector_index import VectorIndex
from chatapp.services.knowledge.ingest import reextract
from chatapp.services.ops import install_backup, install_restore, retention

DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEMO_WORKSPACE = "Demo workspace"


def cmd_migrate(_args) -> int:
    """Database migrations, then the vectors of an older install's local Qdrant store."""
    migrations.upgrade()
    print(f"Database is at revision {migrations.head_revision()}.")
    settings = get_settings()
    if not settings.qdrant_url and migrate_local_qdrant.has_local_store(settings.qdrant_path):
        report = migrate_local_qdrant.migrate_local_store(
            settings.qdrant_path,
            get_engine(),
            progress=lambda bot, n: print(f"bot {bot}: {n} vectors in the database"),
        )
        print(
            f"Moved the vectors of {len(report.moved)} bots into the database "
            f"({report.orphans} without a chunk skipped); the old store is now {report.folder}."
        )
    return 0


def cmd_create_admin(args) -> int:
    email = args.email or os.environ.get("ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
    password = args.password or os.environ.get("ADMIN_PASSWORD") or ""
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    with session_scope() as session:
        if auth.has_any_user(session):
            print(
                "An admin already exists; log in with your credentials "
                "(forgot them? `python -m chatapp reset-password EMAIL`)."
            )
            return 0
        workspaces.setup_first_admin(
            session, email=email, password=password, name="Admin", workspace_name=args.workspace
        )
    print(
        "Created the admin account and the workspace "
        f"'{args.workspace}'.\n  email:    {email}\n  password: {password}"
    )
    if generated:
        print("  (generated: it is shown only now; set ADMIN_PASSWORD to choose one)")
    return 0


def cmd_reset_password(args) -> int:
    """A chosen password is never echoed (terminal scrollback, CI logs); a generated one is
    shown once, since nobody else knows it."""
    chosen = args.password or os.environ.get("ADMIN_PASSWORD") or ""
    password = chosen or secrets.token_urlsafe(12)
    with session_scope() as session:
        user = auth.reset_password(session, email=args.email, new_password=password)
    if chosen:
        print(f"Changed the password of {user.email}; every session of theirs is signed out.")
    else:
        print(
            f"New password for {user.email} (generated: shown only now; every session of "
            f"theirs is signed out)\n  password: {password}"
        )
    return 0


def cmd_check_config(_args) -> int:
    settings = get_settings()
    print(f"Configuration OK ({settings.chatapp_env}); data directory: {settings.data_dir}")
    return 0


def cmd_vectors_copy(args) -> int:
    """Copy the database's vectors to a Qdrant server (then set QDRANT_URL)."""
    target = VectorIndex(copy_to_server.target_client(args.to, args.api_key), dim=None)
    try:
        report = copy_to_server.copy_vectors(
            get_engine(), target, progress=lambda bot, n: print(f"bot {bot}: {n} vectors")
        )
    finally:
        target.close()
    print(f"Copied {report.points} vectors of {len(report.bots)} bots to {args.to}.")
    print("Now set QDRANT_URL to it and restart the app.")
    return 0


def cmd_serve_api(args) -> int:
    """Serve the API and the widget without the dashboard, in `--workers` processes."""
    granian = str(Path(sys.executable).parent / "granian")
    command = granian_command(granian, host=args.host, port=args.port, workers=args.workers)
    os.execv(granian, command)
    return 0  # not reached: the process is granian's now


def cmd_reindex(args) -> int:
    """Re-embed the knowledge with the current embedder (after changing the model)."""
    report = reindex.reindex(
        workspace_id=args.workspace,
        bot_id=args.bot,
        progress=lambda bot, n: print(f"bot {bot}: {n} vectors"),
    )
    total = sum(report.vectors.values())
    print(f"Re-embedded {total} chunks of {len(report.vectors)} bots ({report.size} dimensions).")
    return 0


def cmd_reextract(args) -> int:
    """Re-extract files, texts and Q&A from their originals; queue web sources for a re-sync."""
    report = reextract.reextract(
        workspace_id=args.workspace,
        bot_id=args.bot,
        queue_web=not args.skip_web,
        progress=lambda source, outcome: print(f"source {source}: {outcome}"),
    )
    for source, reason in report.failed.items():
        print(f"source {source} kept its old text: {reason}", file=sys.stderr)
    print(
        f"Re-extracted {len(report.changed)} changed sources ({len(report.unchanged)} unchanged, "
        f"{len(report.failed)} failed); {len(report.queued)} web sources queued for a re-sync."
    )
    return 1 if report.failed else 0


def cmd_purge(_args) -> int:
    report = retention.purge()
    print(
        f"Deleted {report.conversations} conversations ({report.messages} messages) "
        f"and {report.sessions} expired login sessions."
    )
    return 0


def cmd_backup_create(args) -> int:
    result = install_backup.create_backup(get_settings(), Path(args.out) if args.out else None)
    counts = ", ".join(f"{v} {k}" for k, v in result.manifest["counts"].items())
    print(f"Wrote {result.path} ({result.size_bytes / 1e6:.1f} MB): {counts}.")
    return 0


def cmd_backup_restore(args) -> int:
    # read_settings: get_settings() would make DATA_DIR/secret_key before the restore checks
    # that the folder is empty (`rm -rf data && ... backup restore FILE` must work as written).
    settings = read_settings()
    data_dir = Path(args.data_dir) if args.data_dir else settings.data_dir
    done = install_restore.restore_backup(
        Path(args.file), data_dir=data_dir, database_url=settings.database_url, force=args.force
    )
    print(f"Restored the backup of {done.manifest['created_at']} into {done.data_dir}.")
    if done.migrated_from != migrations.head_revision():
        print(f"Migrated the database from {done.migrated_from} to {migrations.head_revision()}.")
    print(f"Start the app with DATA_DIR={done.data_dir}.")
    return 0


def _add_backup(commands) -> None:
    commands.add_parser("purge", help="delete conversations past their retention").set_defaults(
        func=cmd_purge
    )
    backup = commands.add_parser("backup", help="one archive of everything; restore it")
    steps = backup.add_subparsers(dest="step", required=True)
    create = steps.add_parser("create", help="write the archive (the app may be running)")
    create.add_argument("--out", help="archive path (default: DATA_DIR/backups/chatapp-*.tar.gz)")
    create.set_defaults(func=cmd_backup_create)
    restore = steps.add_parser("restore", help="restore into an empty data directory")
    restore.add_argument("file")
    restore.add_argument("--data-dir", help="target directory (default: DATA_DIR)")
    restore.add_argument("--force", action="store_true", help="replace a non-empty directory")
    restore.set_defaults(func=cmd_backup_restore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chatapp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "migrate", help="apply database migrations; move an older install's vectors"
    ).set_defaults(func=cmd_migrate)
    create = commands.add_parser("create-admin", help="create the first admin and a demo workspace")
    create.add_argument("--email")
    create.add_argument("--password")
    create.add_argument("--workspace", default=DEMO_WORKSPACE)
    create.set_defaults(func=cmd_create_admin)
    reset = commands.add_parser("reset-password", help="set a new password for a user")
    reset.add_argument("email")
    reset.add_argument("--password")
    reset.set_defaults(func=cmd_reset_password)
    commands.add_parser("check-config", help="validate settings").set_defaults(
        func=cmd_check_config
    )
    copy = commands.add_parser(
        "vectors-copy", help="copy the vectors stored in the database to a Qdrant server"
    )
    copy.add_argument("--to", required=True, help="the server's URL, e.g. http://qdrant:6333")
    copy.add_argument("--api-key", default="", help="the server's API key, if it has one")
    copy.set_defaults(func=cmd_vectors_copy)
    serve = commands.add_parser(
        "serve-api", help="serve the visitors' API and widget in processes of their own"
    )
    serve.add_argument("--host", default=os.environ.get("API_HOST", "0.0.0.0"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("API_WORKERS", "0")) or (os.cpu_count() or 1),
        help="processes (default: API_WORKERS, else one per core)",
    )
    serve.set_defaults(func=cmd_serve_api)
    again = commands.add_parser(
        "reindex", help="re-embed the knowledge after changing the embedding model (app stopped)"
    )
    again.add_argument("--workspace", type=int, help="only this workspace's bots (id)")
    again.add_argument("--bot", type=int, help="only this bot (id)")
    again.set_defaults(func=cmd_reindex)
    fresh = commands.add_parser(
        "reextract", help="extract every source again from its stored original (app stopped)"
    )
    fresh.add_argument("--workspace", type=int, help="only this workspace's sources (id)")
    fresh.add_argument("--bot", type=int, help="only this bot's sources (id)")
    fresh.add_argument(
        "--skip-web", action="store_true", help="do not queue URL and website sources for a re-sync"
    )
    fresh.set_defaults(func=cmd_reextract)
    _add_backup(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, ServiceError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
