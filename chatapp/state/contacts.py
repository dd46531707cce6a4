"""The Contacts page: one page of the table, the add/edit form with its field errors, the detail
of one contact with its conversations, and the CSV export. Every handler calls one service."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import reflex as rx

from chatapp.services.contacts import contacts, personal_data
from chatapp.services.contacts import export as contact_export
from chatapp.services.contacts import search as contact_search
from chatapp.services.contacts.contacts import ContactInput, ContactInvalid
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState

PER_PAGE = 25
FIELDS = ("name", "email", "phone", "external_id")
EDITOR_ROLES = ("owner", "admin", "agent")  # the roles the services let add and edit contacts


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclasses.dataclass
class ContactView:
    id: int = 0
    name: str = ""
    email: str = ""
    phone: str = ""
    external_id: str = ""
    bot_name: str = ""
    first_seen: str = ""
    first_day: str = ""  # the table's short form of first_seen
    last_seen: str = ""
    conversations: int = 0


@dataclasses.dataclass
class ConversationView:
    id: int
    started: str
    last_message: str
    channel: str
    status: str
    messages: int
    preview: str
    bot_name: str


def _view(row: contact_search.ContactRow) -> ContactView:
    return ContactView(
        id=row.id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        external_id=row.external_id,
        bot_name=row.bot_name,
        first_seen=_when(row.first_seen),
        first_day=row.first_seen.strftime("%Y-%m-%d"),
        last_seen=_when(row.last_seen),
        conversations=row.conversations,
    )


class ContactsState(BotScopeState):
    rows: list[ContactView] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    search: str = ""
    all_bots: bool = False

    editor_open: bool = False
    editing_id: int = 0  # 0: a new contact
    draft: ContactView = ContactView()
    name_error: str = ""
    email_error: str = ""
    phone_error: str = ""
    external_id_error: str = ""

    detail_open: bool = False
    detail: ContactView = ContactView()
    detail_conversations: list[ConversationView] = []

    _filters_for: str = ""  # whose view the search and filter belong to (see open_page)

    @rx.var
    def can_edit_contacts(self) -> bool:
        return self.role in EDITOR_ROLES

    @rx.var
    def range_label(self) -> str:
        if self.total == 0:
            return "No contacts"
        first = (self.page - 1) * PER_PAGE + 1
        last = min(self.total, self.page * PER_PAGE)
        return f"{first}-{last} of {self.total:,}"

    # --- the table ---------------------------------------------------------------------------

    def _bot_filter(self) -> int | None:
        return None if self.all_bots else self.bot_id

    @rx.event
    def open_page(self):
        """on_load, after the login and bot loads. The search, filter and page are kept while
        the same member looks at the same bot; another member (after a logout in this tab),
        workspace or bot starts on that bot's contacts, unsearched."""
        viewer = f"{self._user_id}:{self.workspace_id}:{self.bot_id}"
        if viewer != self._filters_for:
            self._filters_for = viewer
            self.search, self.all_bots, self.page = "", False, 1
        return ContactsState.load

    @rx.event
    async def load(self):
        """The current page of the table again, after every change of filter or data."""
        if not self.bot_id:
            self.rows, self.total, self.page, self.pages = [], 0, 1, 1
            return None
        wanted = {"bot_id": self._bot_filter(), "search": self.search, "page": self.page}
        done = await calls.as_member(
            self, lambda s, a: contact_search.list_contacts(s, a, per_page=PER_PAGE, **wanted)
        )
        if not done.ok:
            self.rows, self.total = [], 0
            return done.toast
        found = done.value
        self.rows = [_view(row) for row in found.rows]
        self.total, self.page, self.pages = found.total, found.page, found.pages
        return None

    @rx.event
    def set_search(self, value: str):
        self.search = value[: contact_search.MAX_SEARCH]
        self.page = 1
        return ContactsState.load

    @rx.event
    def set_all_bots(self, value: bool):
        self.all_bots = value
        self.page = 1
        return ContactsState.load

    @rx.event
    def next_page(self):
        self.page = min(self.page + 1, self.pages)
        return ContactsState.load

    @rx.event
    def previous_page(self):
        self.page = max(1, self.page - 1)
        return ContactsState.load

    # --- add and edit -----------------------------------------------------------------------

    def _clear_errors(self) -> None:
        self.name_error = self.email_error = self.phone_error = self.external_id_error = ""

    @rx.event
    def open_add(self):
        self._clear_errors()
        self.editing_id, self.draft, self.editor_open = 0, ContactView(), True

    @rx.event
    async def open_edit(self, contact_id: int):
        self._clear_errors()
        done = await calls.as_member(self, lambda s, a: contacts.get_contact(s, a, contact_id))
        if not done.ok:
            return [ContactsState.load, done.toast]
        contact = done.value
        self.draft = ContactView(id=contact.id, **{f: getattr(contact, f) for f in FIELDS})
        self.editing_id, self.editor_open = contact.id, True
        return None

    @rx.event
    def set_editor_open(self, value: bool):
        self.editor_open = value

    @rx.event
    async def save(self, form: dict):
        self._clear_errors()
        data = ContactInput(**{f: str(form.get(f, "")) for f in FIELDS})
        editing_id, bot_id = self.editing_id, self.bot_id

        def store(session, actor):
            if editing_id:
                return contacts.update_contact(session, actor, editing_id, data)
            return contacts.create_contact(session, actor, data, bot_id=bot_id)

        done = await calls.as_member(self, store)
        if isinstance(done.error, ContactInvalid):  # each problem beside its field
            for field, problem in done.error.errors.items():
                setattr(self, f"{field}_error", problem)
            return None
        if not done.ok:
            return done.toast
        done = "Contact saved." if self.editing_id else "Contact added."
        self.editor_open = False
        refresh = [ContactsState.load]
        if self.detail_open and self.detail.id == self.editing_id:
            refresh.append(ContactsState.open_detail(self.editing_id))
        return [*refresh, rx.toast.success(done)]

    # --- delete ------------------------------------------------------------------------------

    @rx.event
    async def delete(self, contact_id: int):
        done = await calls.as_member(self, lambda s, a: contacts.delete_contact(s, a, contact_id))
        if not done.ok:
            return done.toast
        if self.detail.id == contact_id:
            self.detail_open = False
        return [ContactsState.load, rx.toast.success("Contact deleted; its conversations stay.")]

    # --- detail ------------------------------------------------------------------------------

    @rx.event
    async def open_detail(self, contact_id: int):
        done = await calls.as_member(
            self,
            lambda s, a: (
                contact_search.contact_row(s, a, contact_id),
                contact_search.linked_conversations(s, a, contact_id),
            ),
        )
        if not done.ok:
            return done.toast
        row, linked = done.value
        self.detail = _view(row)
        self.detail_conversations = [
            ConversationView(
                id=c.id,
                started=_when(c.started_at),
                last_message=_when(c.last_message_at),
                channel=c.channel,
                status=c.status,
                messages=c.message_count,
                preview=c.preview,
                bot_name=c.bot_name,
            )
            for c in linked
        ]
        self.detail_open = True
        return None

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = value

    # --- personal data (access and erasure) --------------------------------------------------

    @rx.event
    async def download_data(self, contact_id: int):
        done = await calls.as_member(
            self, lambda s, a: personal_data.export_contact(s, a, contact_id)
        )
        if not done.ok:
            return done.toast
        export = done.value
        return rx.download(
            data=export.content, filename=export.filename, mime_type="application/json"
        )

    @rx.event
    async def erase(self, contact_id: int):
        done = await calls.as_member(
            self, lambda s, a: personal_data.erase_contact(s, a, contact_id)
        )
        if not done.ok:
            return done.toast
        erased = done.value
        self.detail_open = False
        done = (
            f"Erased the contact, {erased.conversations} conversations "
            f"and {erased.messages} messages."
        )
        return [ContactsState.load, rx.toast.success(done)]

    # --- export ------------------------------------------------------------------------------

    @rx.event
    async def export(self):
        bot_id, search = self._bot_filter(), self.search
        done = await calls.as_member(
            self, lambda s, a: contact_export.export_csv(s, a, bot_id=bot_id, search=search)
        )
        if not done.ok:
            return done.toast
        return rx.download(data=done.value, filename="contacts.csv", mime_type="text/csv")
