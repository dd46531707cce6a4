"""ids are never reused on SQLite: AUTOINCREMENT on the tables the audit log and exports name

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:00:00

Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so erasing the newest contact
handed its id to the next lead, and the audit log's `contact.erase` entry then named someone
else. Rebuilt with AUTOINCREMENT (SQLite's own procedure: new table from the same CREATE
statement, rows copied with their ids, old table dropped, new one renamed, indexes recreated;
foreign keys off meanwhile, so no ON DELETE action fires on the tables pointing here):
contact, conversation, source, action, apitoken. The counter starts above every id the audit log
already names, so an id erased before this migration is not handed out either. PostgreSQL's
sequences never reuse: nothing to do there.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the audit log's target_type for its rows ("" : the log does not name them)
TABLES = {
    "contact": "contact",
    "conversation": "",
    "source": "source",
    "action": "action",
    "apitoken": "api_token",
}
PLAIN_ID = "id INTEGER NOT NULL,"
AUTO_ID = "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,"
TABLE_PK = re.compile(r"PRIMARY KEY \(id\),\s*")


@contextmanager
def _foreign_keys_off(connection) -> Iterator[None]:
    """PRAGMA foreign_keys only changes outside a transaction: end the one open (the previous
    revisions' work, already complete), rebuild, check every reference, switch them back on."""
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
        raw.commit()
    finally:
        if raw.in_transaction:
            raw.rollback()
        raw.execute("PRAGMA foreign_keys=ON")


def _rebuild(raw, table: str, autoincrement: bool) -> None:
    (create,) = raw.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if ("AUTOINCREMENT" in create) == autoincrement:
        return  # already so (a database made from the models, or a repeated run)
    if autoincrement:
        new_sql, swapped = TABLE_PK.subn("", create.replace(PLAIN_ID, AUTO_ID, 1), count=1)
        if AUTO_ID not in new_sql or not swapped:
            raise RuntimeError(f"unexpected schema of {table}: {create}")
    else:
        new_sql = create.replace(AUTO_ID, PLAIN_ID, 1)
        new_sql = re.sub(
            r"\n(\s*)(FOREIGN KEY|CONSTRAINT)", r"\n\1PRIMARY KEY (id), \n\1\2", new_sql, count=1
        )
    temporary = f"_rebuild_{table}"
    new_sql = re.sub(r'^CREATE TABLE\s+"?\w+"?\s*\(', f'CREATE TABLE "{temporary}" (', new_sql)
    indexes = raw.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    raw.execute(new_sql)
    raw.execute(f'INSERT INTO "{temporary}" SELECT * FROM "{table}"')
    raw.execute(f'DROP TABLE "{table}"')
    raw.execute(f'ALTER TABLE "{temporary}" RENAME TO "{table}"')
    for (index_sql,) in indexes:
        raw.execute(index_sql)


def _start_counters_above_the_audit_log(raw) -> None:
    for table, target_type in TABLES.items():
        floor = 0
        if target_type:
            (floor,) = raw.execute(
                "SELECT coalesce(max(CAST(target_id AS INTEGER)), 0) FROM auditentry "
                "WHERE target_type = ? AND target_id GLOB '[0-9]*'",
                (target_type,),
            ).fetchone()
        (highest,) = raw.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()
        start = max(floor, highest)
        raw.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        if start:
            raw.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, start))


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    with _foreign_keys_off(connection):
        raw = connection.connection.driver_connection
        for table in TABLES:
            _rebuild(raw, table, autoincrement=True)
        _start_counters_above_the_audit_log(raw)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    with _foreign_keys_off(connection):
        raw = connection.connection.driver_connection
        for table in TABLES:
            _rebuild(raw, table, autoincrement=False)
