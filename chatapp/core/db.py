"""Database engines and sessions: SQLite by default, PostgreSQL by URL.

One engine per URL per process. SQLite gets WAL, foreign keys and a busy timeout so that the web
process and background work can share one file, and secure_delete so that deleted rows do not
linger in it; PostgreSQL gets a sized, pre-pinged pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

from chatapp.core.config import get_settings

_engines: dict[str, Engine] = {}
_lock = Lock()


def normalize_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` and use the psycopg 3 driver for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros, not left in free space: an erased person's data
    # must not stay readable in the file (personal_data.erase_contact also checkpoints the WAL).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def build_engine(url: str) -> Engine:
    """A new engine for `url` (callers normally want the cached `get_engine`)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    pool_size = get_settings().db_pool_size
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: the configured DATABASE_URL)."""
    url = normalize_url(url or get_settings().database_url)
    with _lock:
        if url not in _engines:
            _engines[url] = build_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a backup or fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: no half-written data."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(engine: Engine | None = None) -> None:
    """Raise if the database cannot answer a trivial query."""
    with (engine or get_engine()).connect() as connection:
        connection.execute(text("SELECT 1"))


def checkpoint_sqlite(bind: Engine | Connection) -> bool:
    """SQLite: copy the WAL into the database file and empty it, so that rows just deleted (with
    secure_delete, zeroed) leave no older copy behind in the WAL. Waits for readers up to the
    busy timeout; False when some still held an old snapshot. Other databases: nothing to do."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        busy, _log, _done = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy
