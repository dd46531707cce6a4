"""Real databases for tests: a SQLite file in a temp dir, or a fresh PostgreSQL database.

A test's database is a copy of one migrated once per test process (`MigratedTemplates`): a file
copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL. Running Alembic from scratch for
each of the suite's ~900 databases cost minutes; the tests of the migrations themselves still
start from an empty database.

PostgreSQL is required when CI=true: a missing server is an error there, a skip elsewhere.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from chatapp.core import migrations
from chatapp.core.config import reset_settings
from chatapp.core.db import dispose_engines
from tests.utils import seeded_rows

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_or_skip(reason: str) -> None:
    """In CI a missing dependency fails the test; on a laptop it skips with the reason."""
    if in_ci():
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def make_current(url: str, monkeypatch) -> None:
    """Make `url` the configured DATABASE_URL for the rest of the test."""
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    dispose_engines()


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        require_or_skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        raise


def _url(name: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _create(template: str | None = None) -> str:
    """A uniquely named database, empty or a copy of `template`; its name."""
    name = f"chatapp_test_{secrets.token_hex(6)}"
    with _admin() as admin:
        copy = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    return name


def _drop_database(name: str) -> None:
    """Drop it (callable from any thread: touches no engine of the test process)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop(name: str) -> None:
    dispose_engines()
    _drop_database(name)


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """Create a uniquely named database (empty, or a copy of `template`), yield its SQLAlchemy
    URL, drop it afterwards."""
    name = _create(template)
    try:
        yield _url(name)
    finally:
        _drop(name)


def _sqlite_copy(source_path: Path, target: Path) -> str:
    """A consistent copy made with SQLite's backup API; its URL."""
    source, copy = sqlite3.connect(source_path), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return f"sqlite:///{target}"


class _InFlight:
    """One SQL command sent on its own connection and not waited for: the server runs it while
    the test goes on. The connection is opened here, in the test's thread: libpq reads the
    environment as it connects, and a thread doing so while the test sets a variable crashed a
    worker (glibc's getenv racing setenv)."""

    recycles = False  # whether it empties a used database (for _Pool)

    def __init__(self, sql: str, database: str | None = None):
        if database is None:
            self.connection = _admin()
        else:
            self.connection = psycopg.connect(_url(database), autocommit=True, connect_timeout=5)
        self.connection.pgconn.send_query(sql.encode())

    def done(self) -> bool:
        """Whether the server has answered (never waits)."""
        pgconn = self.connection.pgconn
        pgconn.consume_input()
        return not pgconn.is_busy()

    def wait(self) -> list[str]:
        """Wait for the answer; the first column of the rows it returned. Raises the server's
        error if a statement failed."""
        ok = (psycopg.pq.ExecStatus.COMMAND_OK, psycopg.pq.ExecStatus.TUPLES_OK)
        try:
            errors, values = [], []
            while (result := self.connection.pgconn.get_result()) is not None:
                if result.status not in ok:
                    errors.append((result.error_message or b"").decode(errors="replace"))
                for row in range(result.ntuples):
                    values.append((result.get_value(row, 0) or b"").decode())
            if errors:
                raise psycopg.OperationalError("; ".join(errors))
            return values
        finally:
            self.connection.close()


class _Drops:
    """Databases dropped without waiting: a test's teardown sends DROP and moves on; the answers
    are collected as later drops are sent, and all at the end."""

    def __init__(self) -> None:
        self.pending: list[_InFlight] = []

    def drop(self, name: str) -> None:
        dispose_engines()  # this process's pooled connections first; FORCE ends any other
        self.pending = [command for command in self.pending if not self._finished(command)]
        self.pending.append(_InFlight(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @staticmethod
    def _finished(command: _InFlight) -> bool:
        if not command.done():
            return False
        command.wait()
        return True

    def close(self) -> None:
        while self.pending:
            self.pending.pop().wait()


# Empties a used test database back to the state of a fresh copy of the migrated template (whose
# only row is alembic_version's), then describes its schema so the pool can check that.
_RECYCLE = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid();
DO $$
DECLARE tables text; sequence record;
BEGIN
  SELECT string_agg(format('%I', tablename), ', ') INTO tables
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version';
  EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
  FOR sequence IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', sequence.sequencename);
  END LOOP;
END $$;
"""
_SCHEMA = """
SELECT 'schema:' || (SELECT string_agg(version_num, ',') FROM alembic_version) || '/'
  || (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY
      table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public')
  || '/' || (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes
      WHERE schemaname = 'public')
  || '/' || (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public');
"""


class _Pool:
    """The test databases of one process: a few copies of the migrated template, each emptied
    after its test and handed, renamed, to a later one.

    Dropping a database makes PostgreSQL 15 run a checkpoint, which waits on every dirty page of
    every worker's databases (2-6 s per test on the loaded machine, ~600 s of the suite), and a
    fresh copy writes the whole database (~9 MB) to the WAL. Emptying the tables costs neither;
    a database whose schema a test changed is dropped instead and replaced by a fresh copy. The
    next databases are prepared ahead, while the current test runs."""

    SIZE = 2

    def __init__(self, template: str, drops: _Drops):
        self.template = template
        self.drops = drops
        with psycopg.connect(_url(template), autocommit=True) as connection:
            self.schema = connection.execute(_SCHEMA).fetchone()[0]  # type: ignore[index]
        self.queue: deque[tuple[str, _InFlight]] = deque()
        for _ in range(self.SIZE):
            self.queue.append(self._copy())

    def _copy(self) -> tuple[str, _InFlight]:
        name = f"chatapp_test_{secrets.token_hex(6)}"
        return name, _InFlight(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')

    def take(self) -> str:
        """The oldest database of the queue, once the server has prepared it (a new copy when
        all are in use: seeded data is built while the test holds its own)."""
        if not self.queue:
            self.queue.append(self._copy())
        name, command = self.queue.popleft()
        if not command.recycles:
            command.wait()  # a fresh copy: its error is the test's
            return name
        try:
            reusable = command.wait()[-1] == self.schema
        except psycopg.Error:  # a test dropped a table the emptying needs
            reusable = False
        if reusable:
            return self._renamed(name)
        self.drops.drop(name)
        self.queue.append(self._copy())
        return self.take()

    @staticmethod
    def _renamed(name: str) -> str:
        """The emptied database under a new name: the product keeps some caches per database URL
        (the planner's word statistics, for one), which must not carry over to the next test."""
        new_name = f"chatapp_test_{secrets.token_hex(6)}"
        with _admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{new_name}"')
        return new_name

    def give_back(self, name: str) -> None:
        """Empty the database (without waiting) and queue it for a later test."""
        dispose_engines()  # this process's pooled connections; the command ends any other
        command = _InFlight(_RECYCLE + _SCHEMA, database=name)
        command.recycles = True
        self.queue.append((name, command))

    def close(self) -> None:
        while self.queue:
            name, command = self.queue.popleft()
            try:
                command.wait()
            finally:
                _drop_database(name)


def _built_on(url: str, build: Callable[[], Any]) -> Any:
    """`build()` run with `url` as the configured database; no connection left open after."""
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    reset_settings()
    dispose_engines()
    try:
        return build()
    finally:
        dispose_engines()  # a template must have no open connection when it is copied
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        reset_settings()


class MigratedTemplates:
    """One migrated database of each kind per test process, copied for each test that asks."""

    def __init__(self, root: Path):
        self.root = root
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self._pool: _Pool | None = None
        self._seeded: dict[tuple[str, str], tuple[str, Any]] = {}
        self._drops = _Drops()

    def sqlite(self, target: Path) -> str:
        """A migrated SQLite file at `target` (a consistent copy made with SQLite's backup API)."""
        if self._sqlite is None:
            self._sqlite = self._migrated_sqlite()
        return _sqlite_copy(self._sqlite, target)

    @contextmanager
    def postgres(self) -> Iterator[str]:
        """A migrated PostgreSQL database for the duration of the block."""
        if self._postgres is None:
            self._postgres = self._migrated_postgres()
        if self._pool is None:
            self._pool = _Pool(self._postgres, self._drops)
        name = self._pool.take()
        try:
            yield _url(name)
        finally:
            self._pool.give_back(name)

    @contextmanager
    def seeded(
        self, kind: str, name: str, build: Callable[[], Any], target: Path, monkeypatch
    ) -> Iterator[Any]:
        """A copy of a database that `build()` filled once per test process (on a migrated copy),
        made the configured DATABASE_URL; yields what `build()` returned. For data that many tests
        read the same way: building it through the real services each time costs seconds. On
        PostgreSQL the rows are loaded into a database of the pool (seeded_rows.py)."""
        if (kind, name) not in self._seeded:
            self._seeded[(kind, name)] = self._build_seeded(kind, name, build)
        source, value = self._seeded[(kind, name)]
        if kind == "sqlite":
            make_current(_sqlite_copy(Path(source), target), monkeypatch)
            yield value
            return
        with self.postgres() as url:
            seeded_rows.load(url, source)
            make_current(url, monkeypatch)
            yield value

    def load_seeded(self, name: str, build: Callable[[], Any], url: str) -> Any:
        """Fill the test's own empty database at `url` (from `database_url`) with what `build()`
        made once per test process, and return what it returned: for fixtures that other
        fixtures and tests combine with `database_url`."""
        kind = "sqlite" if url.startswith("sqlite") else "postgres"
        if (kind, name) not in self._seeded:
            self._seeded[(kind, name)] = self._build_seeded(kind, name, build)
        source, value = self._seeded[(kind, name)]
        dispose_engines()  # no connection may see the database change under it
        if kind == "sqlite":
            _sqlite_copy(Path(source), Path(url.removeprefix("sqlite:///")))
        else:
            seeded_rows.load(url, source)
        return value

    def _build_seeded(self, kind: str, name: str, build: Callable[[], Any]) -> tuple[Any, Any]:
        """(the SQLite file, or the PostgreSQL rows, that `build()` filled; what it returned)"""
        if kind == "sqlite":
            template = str(self.root / f"{name}.db")
            return template, _built_on(self.sqlite(Path(template)), build)
        with self.postgres() as url:
            value = _built_on(url, build)
            return seeded_rows.dump(url), value

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._drops.close()
        if self._postgres is not None:
            _drop(self._postgres)
            self._postgres = None

    def _migrated_sqlite(self) -> Path:
        path = self.root / "template.db"
        migrations.upgrade(f"sqlite:///{path}")
        dispose_engines()
        return path

    def _migrated_postgres(self) -> str:
        name = f"chatapp_template_{secrets.token_hex(6)}"
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        migrations.upgrade(_url(name))
        dispose_engines()  # a template must have no open connection when it is copied
        return name
