"""Contacts as a CSV file that is safe to open in a spreadsheet.

Names, emails and ids come from visitors, so any of them may be a formula (`=HYPERLINK(...)`):
a cell starting with = + - @ (or a tab or carriage return, which some spreadsheets skip before
reading a formula) gets a leading apostrophe, which spreadsheets show as text and never run.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlmodel import Session

from chatapp.services.accounts.tenancy import Actor, Permission
from chatapp.services.contacts.search import filtered_contacts, rows

HEADER = [
    "Name",
    "Email",
    "Phone",
    "External ID",
    "Source bot",
    "First seen (UTC)",
    "Last seen (UTC)",
    "Conversations",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so Excel reads the file as UTF-8


def safe_cell(value: str) -> str:
    """The text of one cell, never readable as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def export_csv(session: Session, actor: Actor, *, bot_id: int | None, search: str = "") -> str:
    """Every contact the table's filter shows (all pages), one row each, header first."""
    actor.require(Permission.READ)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows(session, actor, filtered_contacts(actor, bot_id=bot_id, search=search)):
        writer.writerow(
            [
                safe_cell(row.name),
                safe_cell(row.email),
                safe_cell(row.phone),
                safe_cell(row.external_id),
                safe_cell(row.bot_name),
                _when(row.first_seen),
                _when(row.last_seen),
                str(row.conversations),
            ]
        )
    return BOM + out.getvalue()
