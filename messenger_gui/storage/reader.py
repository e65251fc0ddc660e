"""What the user interface reads from the history: :class:`HistoryReader`, the narrow
facade that widgets and models are given instead of the whole store.

:class:`~messenger_gui.storage.ClientStore` provides it. The quick reads (a page of
messages, one row, a title) run on the caller's thread; anything that may take longer than a
frame goes through :meth:`HistoryReader.read`, which runs the query on the store's reader
thread and resolves a future on the event loop. Widgets never write: they emit signals, and
the controller asks the client core, which writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar

from messenger_gui.storage.records import (
    ChatSettings,
    Contact,
    ConversationSummary,
    GroupReceipts,
    StoredGroup,
    StoredMessage,
)

if TYPE_CHECKING:
    from messenger_gui.storage.files import StoredFile

T = TypeVar("T")


class HistoryReader(Protocol):
    """The reads of the user interface (see the module docstring)."""

    def read(self, query: Callable[[HistoryReader], T], /) -> asyncio.Future[T]:
        """``query(reader)`` off the caller's thread; needs a running event loop."""
        ...

    def conversations_summary(self) -> list[ConversationSummary]: ...

    def conversation_title(self, conversation: str) -> str: ...

    def contact(self, client_id: str) -> Contact | None: ...

    def group(self, group_id: str) -> StoredGroup | None: ...

    def message(self, local_id: int) -> StoredMessage | None: ...

    def message_count(self, conversation: str) -> int: ...

    def messages_page(
        self, conversation: str, before_local_id: int | None, limit: int
    ) -> list[StoredMessage]: ...

    def messages_after(
        self, conversation: str, after_local_id: int, limit: int
    ) -> list[StoredMessage]: ...

    def messages_around(self, local_id: int, n: int) -> list[StoredMessage]: ...

    def unread_count(self, conversation: str) -> int: ...

    def first_unread(self, conversation: str) -> StoredMessage | None: ...

    def read_marker(self, conversation: str) -> int | None: ...

    def draft(self, conversation: str) -> str: ...

    def chat_settings(self, conversation: str) -> ChatSettings: ...

    def group_receipts(self, group_id: str, seq: int, *, me: str) -> GroupReceipts: ...

    def files_of(self, local_ids: Iterable[int]) -> dict[int, list[StoredFile]]: ...
