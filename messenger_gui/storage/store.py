"""The local history of one profile, behind one class: :class:`ClientStore`."""

from __future__ import annotations

from messenger_gui.storage.conversations import ConversationsMixin
from messenger_gui.storage.export import ExportMixin
from messenger_gui.storage.markers import MarkersMixin
from messenger_gui.storage.messages import MessagesMixin
from messenger_gui.storage.search import SearchMixin


class ClientStore(ConversationsMixin, MessagesMixin, MarkersMixin, SearchMixin, ExportMixin):
    """The local history of one profile: one SQLite connection, synchronous, short calls.

    Use from one thread (the GUI thread is fine: every call is one short statement or
    transaction). Every write is committed durably before the method returns, so a
    caller may acknowledge to the server, or show "queued", right after it.

    Args:
        directory: the profile directory (created 0700 if needed), or ``None`` for a
            throw-away in-memory store (tests).

    Raises:
        SchemaTooNewError: the database was written by a newer app version.
    """

    def __enter__(self) -> ClientStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
