"""The desktop client's local storage: identity file and message history, no Qt.

A profile directory (:func:`profile_dir`) holds two files, both readable by the user only:

* ``identity.json``: the server address, this client's ID and credential (:class:`ClientData`),
  read with :func:`load_client_data` and replaced atomically by :func:`save_client_data`
  (:mod:`.identity`);
* ``history.sqlite3``: contacts, groups, the message history, the outbox (with the messages
  the server refused for good), our read markers and the other participants' delivery and
  read markers (with the ``version`` of the last ``receipts`` applied), behind
  :class:`ClientStore` (:mod:`.store`).

The store is split by job: :mod:`.schema` (opening, migrations, the base class),
:mod:`.messages` (incoming messages, outbox, paging), :mod:`.actions` (edits, deletions,
reactions: received ones applied, ours queued), :mod:`.markers` (receipts, ticks, read
markers), :mod:`.conversations` (contacts, groups, the conversation list), :mod:`.search`
and :mod:`.export`; the rows it returns are in :mod:`.records`. Import from this package.
"""

from messenger_gui.storage.export import ExportLabels
from messenger_gui.storage.identity import (
    APP_NAME,
    IDENTITY_FILE,
    PROFILE_NAME_PATTERN,
    ClientData,
    load_client_data,
    profile_dir,
    save_client_data,
    save_client_id,
)
from messenger_gui.storage.reader import HistoryReader
from messenger_gui.storage.records import (
    MUTED_FOREVER,
    ChatSettings,
    Chunk,
    ChunkSaved,
    Contact,
    ConversationSummary,
    Direction,
    EntryKind,
    EntryRefused,
    ExportFormat,
    GroupMember,
    GroupReceipts,
    MessageStatus,
    OutgoingEntry,
    OutgoingMessage,
    PeerMarker,
    Quote,
    Reaction,
    SearchHit,
    SendFailure,
    StatusChange,
    StoredGroup,
    StoredMessage,
    is_system_line,
    now_ms,
    parse_system_line,
    system_line,
    system_line_text,
)
from messenger_gui.storage.schema import (
    DATABASE_FILE,
    MIGRATIONS,
    RECEIPTS_VERSION,
    SCHEMA_VERSION,
    SchemaTooNewError,
)
from messenger_gui.storage.search import fold_accents
from messenger_gui.storage.store import ClientStore

__all__ = [
    "APP_NAME",
    "DATABASE_FILE",
    "IDENTITY_FILE",
    "MIGRATIONS",
    "MUTED_FOREVER",
    "PROFILE_NAME_PATTERN",
    "RECEIPTS_VERSION",
    "SCHEMA_VERSION",
    "ChatSettings",
    "Chunk",
    "ChunkSaved",
    "ClientData",
    "ClientStore",
    "Contact",
    "ConversationSummary",
    "Direction",
    "EntryKind",
    "EntryRefused",
    "ExportFormat",
    "ExportLabels",
    "GroupMember",
    "GroupReceipts",
    "HistoryReader",
    "MessageStatus",
    "OutgoingEntry",
    "OutgoingMessage",
    "PeerMarker",
    "Quote",
    "Reaction",
    "SchemaTooNewError",
    "SearchHit",
    "SendFailure",
    "StatusChange",
    "StoredGroup",
    "StoredMessage",
    "fold_accents",
    "is_system_line",
    "load_client_data",
    "now_ms",
    "parse_system_line",
    "profile_dir",
    "save_client_data",
    "save_client_id",
    "system_line",
    "system_line_text",
]
