"""The main window: conversation sidebar on the left, the open chat on the right.

:class:`MainWindow` knows the local history (to read it) but not the client core: it emits
signals for everything the user asks for, and the controller (``messenger_gui.app``) calls
its public methods when something happens. It remembers nothing itself (window geometry
and the splitter are the controller's to save and restore).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date
from typing import Final

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPoint,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPixmap,
    QShowEvent,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import (
    ConversationSummary,
    HistoryReader,
    MessageStatus,
    StoredMessage,
    is_system_line,
    now_ms,
)
from messenger_gui.ui.avatars import paint_avatar
from messenger_gui.ui.chat import ChatView, MessageListModel
from messenger_gui.ui.composer import Composer
from messenger_gui.ui.conversations import (
    ConversationDelegate,
    ConversationFilterModel,
    ConversationListModel,
    ConversationRole,
)
from messenger_gui.ui.dialogs.send_files import FileSending
from messenger_gui.ui.formatting import (
    bidi_safe,
    fill,
    isolate,
    plain_tooltip,
    presence_text,
    typing_text,
)
from messenger_gui.ui.resources import app_icon, icon
from messenger_gui.ui.theme import colours, ensure_theme

log = logging.getLogger(__name__)

MUTE_FOREVER: Final = -1
"""The ``seconds`` of :attr:`MainWindow.mute_requested` for "until I unmute it"."""

FLOOD_ROWS = 100
"""Messages of the open chat arriving at once from which they are shown in frames."""
FLOOD_FRAME_MS = 100
"""How often a flood of messages into the open chat is shown."""
DRAFT_SAVE_MS = 1500
"""A draft is stored this long after the user stops typing (and on leaving the chat)."""


def avatar_pixmap(
    identifier: str, title: str, size: int, ratio: float, *, is_group: bool = False
) -> QPixmap:
    """A painted avatar at ``size`` logical pixels, sharp at device pixel ratio ``ratio``."""
    pixmap = QPixmap(QSize(round(size * ratio), round(size * ratio)))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_avatar(painter, QRectF(0, 0, size, size), identifier, title, is_group=is_group)
    painter.end()
    return pixmap


class _ChatBackdrop(QWidget):
    """The empty state's background: the chat colour, so nothing jumps when a chat opens."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), colours(self.palette()).chat_background)
        painter.end()


class MainWindow(QMainWindow):
    """The app's main window. See the module docstring for the division of work.

    Args:
        history: the profile's history, read (never written) by the window and its models
            (:class:`~messenger_gui.storage.HistoryReader`).
        own_id: this client's ID (header, "Copy my ID", empty state).
        own_name: this client's display name.
        parent: Qt parent.
    """

    send_requested = Signal(str, bool, str)
    """``(conversation, is_group, text)``: the user sent a message. Call
    ``client.send_message`` and then :meth:`messages_received` with the queued message."""
    reply_requested = Signal(str, bool, str, int, list)
    """``(conversation, is_group, text, reply_to, mentions)``: the user sent a reply to
    message ``reply_to`` (in a group, mentioning ``mentions``). Call
    ``client.send_message(..., reply_to=reply_to, mentions=mentions)``, then
    :meth:`messages_received`."""
    edit_message_requested = Signal(int, str)
    """``(local_id, text)``: the user edited one of its messages."""
    delete_messages_requested = Signal(list)
    """The user chose "Delete" on these sent messages: ask for me / for everyone."""
    react_requested = Signal(int, str, bool)
    """``(local_id, emoji, on)``: set or take back our reaction."""
    other_reaction_requested = Signal(int)
    """The user wants to react with an emoji not in the quick set: ask which."""
    forward_requested = Signal(list)
    """The user chose "Forward" on these messages: ask where to."""
    conversation_opened = Signal(str, bool)
    """``(conversation, is_group)``: this conversation is now shown."""
    add_contact_requested = Signal()
    new_group_requested = Signal()
    search_requested = Signal()
    group_info_requested = Signal(str)
    export_requested = Signal(str, str)
    """``(conversation, fmt)`` with ``fmt`` ``"html"`` or ``"json"``."""
    copy_id_requested = Signal()
    quit_requested = Signal()
    read_position_changed = Signal(str, bool, int)
    """``(conversation, is_group, up_to_seq)``: the newest incoming ``seq`` the user has
    seen while the window was active (only ever grows per conversation)."""
    draft_changed = Signal(str, str)
    """``(conversation, text)``: what the user typed in a chat and did not send (blank:
    none); emitted when the user leaves the chat, after a pause in typing, and by
    :meth:`flush_draft`. Store it; :class:`HistoryReader.draft` gives it back."""
    add_to_contacts_requested = Signal(str)
    """The user wants the peer of the open direct chat among the contacts."""
    block_requested = Signal(str)
    """The user blocks the peer of the open direct chat (a stranger)."""
    unread_changed = Signal(int)
    """The unread total over every conversation, after each refresh of the list (for the
    tray and the window title)."""
    typing_edited = Signal(str, bool)
    """``(conversation, is_group)``: the user edited the draft of the open chat and it is
    not blank (``client.draft_edited`` throttles what goes on the wire)."""
    typing_stopped = Signal(str, bool)
    """``(conversation, is_group)``: the user sent, emptied or left the draft."""
    settings_requested = Signal()
    send_with_mentions_requested = Signal(str, bool, str, list)
    """``(group, True, text, mentions)``: as :attr:`send_requested`, for a group message
    that mentions members (their client IDs), sent with ``mentions``."""
    mute_requested = Signal(str, int)
    """``(conversation, seconds)``: mute it for that long (:data:`MUTE_FOREVER`: until
    unmuted; 0: unmute)."""
    pin_requested = Signal(str, bool)
    archive_requested = Signal(str, bool)
    send_files_requested = Signal(str, bool, list, str)
    """issue 10: ``(conversation, is_group, paths, caption)``: files to send, confirmed in
    the preview."""

    def __init__(
        self, history: HistoryReader, own_id: str, own_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        ensure_theme()
        self._store = history
        self._own_id = own_id
        self._own_name = own_name
        self._current: tuple[str, bool] | None = None
        self._draft_shown = ""
        self._read_sent: dict[str, int] = {}
        self._selecting = False
        self._composer_override: tuple[bool, str] | None = None
        self._drafts: dict[str, str] = {}
        """Drafts set in this session (the history may not have them yet)."""
        self._typing: dict[str, str] = {}
        """conversation → "Ana is typing…" (see :meth:`set_typing`)."""
        self._archived_count = 0
        self._presence: dict[str, tuple[bool, int | None]] = {}
        """client ID → (online, last seen) as shown to us (see :meth:`set_presence`)."""
        self.today: date | None = None
        """Pin "today" for tests and screenshots ("last seen today at…"); ``None``: now."""
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self.flush_draft)
        self._reload_soon = QTimer(self)
        self._reload_soon.setSingleShot(True)
        self._reload_soon.setInterval(0)
        self._reload_soon.timeout.connect(self._fetch_conversations)
        self._refetch_timer = QTimer(self)
        self._refetch_timer.setSingleShot(True)
        self._refetch_timer.setInterval(FLOOD_FRAME_MS)
        self._refetch_timer.timeout.connect(self._fetch_conversations)
        self._flood: list[StoredMessage] = []
        self._flood_timer = QTimer(self)
        self._flood_timer.setSingleShot(True)
        self._flood_timer.setInterval(FLOOD_FRAME_MS)
        self._flood_timer.timeout.connect(self._show_flood)
        self._fetching: asyncio.Future[list[ConversationSummary]] | None = None
        self._shut_down = False
        self._refetch = False
        self.unread_total = 0
        """The unread total of the last refresh (see :attr:`unread_changed`)."""

        self.setWindowTitle(self.tr("Messenger"))
        self.setWindowIcon(app_icon())
        self.setMinimumSize(QSize(720, 480))
        self.resize(1100, 720)

        self._build_actions()
        self._build_sidebar()
        self._build_chat()
        self._splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self._splitter.setObjectName("mainSplitter")
        self._splitter.addWidget(self.sidebar)
        self._splitter.addWidget(self._right)
        self._splitter.setCollapsible(0, False)
        self._splitter.setCollapsible(1, False)
        self._splitter.setStretchFactor(0, 0)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setHandleWidth(1)
        self._splitter.setSizes([320, 780])
        self.setCentralWidget(self._splitter)
        self._build_status_bar()
        self.reload_conversations()
        self._ready = True
        self._refresh_icons()

    # --- construction ---

    def _action(
        self,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None,
        slot: object,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.action_add_contact = self._action(
            self.tr("Add contact…"), "Ctrl+N", self.add_contact_requested
        )
        self.action_new_group = self._action(
            self.tr("New group…"), "Ctrl+G", self.new_group_requested
        )
        self.action_search = self._action(
            self.tr("Search messages…"), QKeySequence.StandardKey.Find, self.search_requested
        )
        self.action_copy_id = self._action(self.tr("Copy my ID"), None, self.copy_id_requested)
        self.action_settings = self._action(
            self.tr("Settings…"), QKeySequence.StandardKey.Preferences, self.settings_requested
        )
        self.action_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.action_export_html = self._action(
            self.tr("Export chat as HTML…"), None, lambda: self._export("html")
        )
        self.action_export_json = self._action(
            self.tr("Export chat as JSON…"), None, lambda: self._export("json")
        )
        self.action_group_info = self._action(
            self.tr("Group info…"), None, self._request_group_info
        )
        self.action_add_to_contacts = self._action(
            self.tr("Add to contacts"), None, self._request_add_to_contacts
        )
        self.action_block = self._action(self.tr("Block…"), None, self._request_block)
        self.action_quit = self._action(self.tr("Quit"), "Ctrl+Q", self.quit_requested)
        self.action_quit.setMenuRole(QAction.MenuRole.QuitRole)
        for action in (self.action_export_html, self.action_export_json, self.action_group_info):
            action.setEnabled(False)

        self.main_menu = QMenu(self)
        self.main_menu.addAction(self.action_add_contact)
        self.main_menu.addAction(self.action_new_group)
        self.main_menu.addAction(self.action_search)
        self.main_menu.addSeparator()
        self.main_menu.addAction(self.action_copy_id)
        self.main_menu.addAction(self.action_settings)
        self.main_menu.addSeparator()
        self.main_menu.addAction(self.action_quit)

        self.chat_menu = QMenu(self)
        self.chat_menu.addAction(self.action_group_info)
        self.chat_menu.addAction(self.action_add_to_contacts)
        self.chat_menu.addAction(self.action_search)
        self.chat_menu.addSeparator()
        self.chat_menu.addAction(self.action_export_html)
        self.chat_menu.addAction(self.action_export_json)
        self.chat_menu.addSeparator()
        self.chat_menu.addAction(self.action_block)
        for action in (self.action_group_info, self.action_add_to_contacts, self.action_block):
            action.setVisible(False)  # shown for the chats they apply to
        self._chat_menu_extra: list[QAction] = []
        self.chat_menu.aboutToShow.connect(self._fill_chat_menu)

    def _tool_button(self, parent: QWidget, tooltip: str) -> QToolButton:
        button = QToolButton(parent)
        button.setIconSize(QSize(20, 20))
        button.setToolTip(tooltip)
        button.setAccessibleName(tooltip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setAutoRaise(True)
        # Reached with Tab, but a click leaves the focus where typing goes: a key typed
        # after clicking ☰ must not open the menu again.
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def _build_sidebar(self) -> None:
        self.sidebar = QWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setMinimumWidth(250)
        self.sidebar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self.sidebar)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        header = QFrame(self.sidebar)
        header.setObjectName("sidebarHeader")
        header.setFixedHeight(60)
        row = QHBoxLayout(header)
        row.setContentsMargins(8, 8, 8, 8)
        row.setSpacing(8)
        self.menu_button = self._tool_button(header, self.tr("Menu"))
        self.menu_button.setMenu(self.main_menu)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
        row.addWidget(self.menu_button)
        self.own_avatar = QLabel(header)
        self.own_avatar.setFixedSize(QSize(36, 36))
        row.addWidget(self.own_avatar)
        names = QVBoxLayout()
        names.setSpacing(0)
        self.own_name_label = QLabel(bidi_safe(self._own_name), header)
        self.own_name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.own_name_label.setObjectName("headerTitle")
        self.own_id_label = QLabel(self._own_id, header)
        self.own_id_label.setObjectName("headerSubtitle")
        self.own_id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        names.addWidget(self.own_name_label)
        names.addWidget(self.own_id_label)
        row.addLayout(names, 1)
        self.copy_id_button = self._tool_button(header, self.tr("Copy my ID"))
        self.copy_id_button.clicked.connect(self.copy_id_requested)
        row.addWidget(self.copy_id_button)
        layout.addWidget(header)

        filter_row = QHBoxLayout()
        filter_row.setContentsMargins(10, 8, 10, 6)
        self.filter_box = QLineEdit(self.sidebar)
        self.filter_box.setObjectName("filterBox")
        self.filter_box.setPlaceholderText(self.tr("Filter chats"))
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.setAccessibleName(self.tr("Filter chats"))
        self._filter_icon_action = self.filter_box.addAction(
            QIcon(), QLineEdit.ActionPosition.LeadingPosition
        )
        filter_row.addWidget(self.filter_box)
        layout.addLayout(filter_row)

        self.conversation_model = ConversationListModel(self._store.conversations_summary, self)
        self.conversation_filter = ConversationFilterModel(self)
        self.conversation_filter.setSourceModel(self.conversation_model)
        self.conversation_list = QListView(self.sidebar)
        self.conversation_list.setObjectName("conversationList")
        self.conversation_list.setAccessibleName(self.tr("Chats"))
        self.conversation_list.setModel(self.conversation_filter)
        self.conversation_delegate = ConversationDelegate(self.conversation_list)
        self.conversation_list.setItemDelegate(self.conversation_delegate)
        self.conversation_list.setUniformItemSizes(True)
        self.conversation_list.setMouseTracking(True)
        self.conversation_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.conversation_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversation_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.conversation_list.setFrameShape(QFrame.Shape.NoFrame)
        self.conversation_list.selectionModel().currentChanged.connect(self._current_row_changed)
        self.conversation_list.clicked.connect(self._row_chosen)
        self.conversation_list.activated.connect(self._row_chosen)
        self.conversation_list.installEventFilter(self)
        self.filter_box.textChanged.connect(self.conversation_filter.set_filter)
        self.filter_box.returnPressed.connect(self._open_first_filtered)
        self.conversation_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.conversation_list.customContextMenuRequested.connect(self._list_context_menu)
        self.archive_button = QPushButton(self.sidebar)
        self.archive_button.setObjectName("archiveButton")
        self.archive_button.setFlat(True)
        self.archive_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.archive_button.clicked.connect(self._toggle_archived)
        self.archive_button.hide()
        layout.addWidget(self.archive_button)
        layout.addWidget(self.conversation_list, 1)

        self.no_conversations = QLabel(
            self.tr("No chats yet.\nAdd a contact with Ctrl+N to start."), self.sidebar
        )
        self.no_conversations.setObjectName("muted")
        self.no_conversations.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_conversations.setWordWrap(True)
        layout.addWidget(self.no_conversations, 1)

    def _build_chat(self) -> None:
        self._right = QStackedWidget(self)
        self._right.setMinimumWidth(400)

        # Empty state.
        self.empty_state = _ChatBackdrop(self._right)
        self.empty_state.setObjectName("emptyState")
        empty = QVBoxLayout(self.empty_state)
        empty.addStretch(1)
        self.empty_logo = QLabel(self.empty_state)
        self.empty_logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.addWidget(self.empty_logo)
        self.empty_title = QLabel(self.tr("Select a chat to start messaging"), self.empty_state)
        self.empty_title.setObjectName("headerTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.empty_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.empty_title.setFont(font)
        empty.addWidget(self.empty_title)
        self.empty_hint = QLabel(self.empty_state)
        self.empty_hint.setObjectName("muted")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty_hint.setText(
            self.tr("Your ID is %1. Share it so people can add you.").replace("%1", self._own_id)
        )
        empty.addWidget(self.empty_hint)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.empty_copy_button = QPushButton(self.tr("Copy my ID"), self.empty_state)
        self.empty_copy_button.setObjectName("secondaryButton")
        self.empty_copy_button.clicked.connect(self.copy_id_requested)
        self.empty_add_button = QPushButton(self.tr("Add contact"), self.empty_state)
        self.empty_add_button.setObjectName("emptyStateButton")
        self.empty_add_button.clicked.connect(self.add_contact_requested)
        buttons.addWidget(self.empty_copy_button)
        buttons.addWidget(self.empty_add_button)
        buttons.addStretch(1)
        empty.addSpacing(8)
        empty.addLayout(buttons)
        empty.addStretch(2)
        self._right.addWidget(self.empty_state)

        # Chat page.
        self.chat_page = QWidget(self._right)
        chat = QVBoxLayout(self.chat_page)
        chat.setContentsMargins(0, 0, 0, 0)
        chat.setSpacing(0)
        self.chat_header = QFrame(self.chat_page)
        self.chat_header.setObjectName("chatHeader")
        self.chat_header.setFixedHeight(60)
        row = QHBoxLayout(self.chat_header)
        row.setContentsMargins(14, 8, 10, 8)
        row.setSpacing(10)
        self.header_avatar = QLabel(self.chat_header)
        self.header_avatar.setFixedSize(QSize(40, 40))
        row.addWidget(self.header_avatar)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        self.header_title = QLabel(self.chat_header)
        self.header_title.setObjectName("headerTitle")
        self.header_subtitle = QLabel(self.chat_header)
        for label in (self.header_title, self.header_subtitle):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names are other people's text
        self.header_subtitle.setObjectName("headerSubtitle")
        self.header_subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        titles.addWidget(self.header_title)
        titles.addWidget(self.header_subtitle)
        row.addLayout(titles, 1)
        self.search_button = self._tool_button(self.chat_header, self.tr("Search messages"))
        self.search_button.clicked.connect(self.search_requested)
        row.addWidget(self.search_button)
        self.info_button = self._tool_button(self.chat_header, self.tr("Chat info"))
        self.info_button.setMenu(self.chat_menu)
        self.info_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.info_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
        row.addWidget(self.info_button)
        chat.addWidget(self.chat_header)

        self.message_model = MessageListModel(self._store, self, own_id=self._own_id)
        self.chat_view = ChatView(self.message_model, self.chat_page)
        self.chat_view.setAccessibleName(self.tr("Messages"))
        self.chat_view.visible_range_changed.connect(self._report_read_position)
        self.chat_view.installEventFilter(self)
        self.chat_view.set_own_id(self._own_id)
        self.chat_view.reply_requested.connect(self.start_reply)
        self.chat_view.edit_requested.connect(self.start_edit)
        self.chat_view.delete_messages_requested.connect(self.delete_messages_requested)
        self.chat_view.react_requested.connect(self.react_requested)
        self.chat_view.other_reaction_requested.connect(self.other_reaction_requested)
        self.chat_view.forward_requested.connect(self.forward_requested)
        chat.addWidget(self.chat_view, 1)

        self.contact_banner = QFrame(self.chat_page)
        self.contact_banner.setObjectName("contactBanner")
        banner = QHBoxLayout(self.contact_banner)
        banner.setContentsMargins(16, 8, 12, 8)
        banner.setSpacing(8)
        self.contact_banner_label = QLabel(self.contact_banner)
        self.contact_banner_label.setTextFormat(Qt.TextFormat.PlainText)
        self.contact_banner_label.setWordWrap(True)
        banner.addWidget(self.contact_banner_label, 1)
        self.banner_block_button = QPushButton(self.tr("Block"), self.contact_banner)
        self.banner_block_button.setObjectName("secondaryButton")
        self.banner_block_button.clicked.connect(self._request_block)
        self.banner_add_button = QPushButton(self.tr("Add to contacts"), self.contact_banner)
        self.banner_add_button.setObjectName("emptyStateButton")
        self.banner_add_button.clicked.connect(self._request_add_to_contacts)
        for button in (self.banner_block_button, self.banner_add_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            banner.addWidget(button)
        self.contact_banner.hide()
        chat.addWidget(self.contact_banner)

        self.selection_bar = QFrame(self.chat_page)
        self.selection_bar.setObjectName("selectionBar")
        bar = QHBoxLayout(self.selection_bar)
        bar.setContentsMargins(16, 8, 12, 8)
        bar.setSpacing(8)
        self.selection_count = QLabel(self.selection_bar)
        self.selection_count.setObjectName("selectionCount")
        bar.addWidget(self.selection_count, 1)
        self.selection_forward = QPushButton(self.tr("Forward"), self.selection_bar)
        self.selection_forward.setObjectName("secondaryButton")
        self.selection_forward.clicked.connect(
            lambda: self._emit_selection(self.chat_view.forwardable_selection(), forward=True)
        )
        self.selection_delete = QPushButton(self.tr("Delete"), self.selection_bar)
        self.selection_delete.setObjectName("secondaryButton")
        self.selection_delete.clicked.connect(
            lambda: self._emit_selection(self.chat_view.deletable_selection(), forward=False)
        )
        self.selection_cancel = QPushButton(self.tr("Cancel"), self.selection_bar)
        self.selection_cancel.setObjectName("secondaryButton")
        self.selection_cancel.setToolTip(self.tr("Leave selection mode (Esc)"))
        self.selection_cancel.clicked.connect(self.chat_view.stop_selecting)
        for button in (self.selection_forward, self.selection_delete, self.selection_cancel):
            bar.addWidget(button)
        self.selection_bar.hide()
        chat.addWidget(self.selection_bar)
        self.chat_view.selection_mode_changed.connect(self._selection_mode_changed)
        self.chat_view.selectionModel().selectionChanged.connect(self._update_selection_bar)

        self.composer = Composer(self.chat_page)
        self.composer.send_requested.connect(self._send)
        self.composer.edit_submitted.connect(self.edit_message_requested)
        self.composer.edit_last_requested.connect(self.edit_last_message)
        self.composer.input.textChanged.connect(self._draft_typed)
        self.composer.edited.connect(self._composer_edited)
        chat.addWidget(self.composer)
        # issue 10: files come from the attach button, a drop on the chat, or a paste.
        self.file_sending = FileSending(self, self._open_title)
        self.composer.attach_requested.connect(self.file_sending.choose)
        self.composer.input.files_pasted.connect(self.file_sending.from_mime)
        self.chat_view.setAcceptDrops(True)
        self.chat_view.viewport().setAcceptDrops(True)
        self.chat_view.viewport().installEventFilter(self.file_sending)
        self.file_sending.send_requested.connect(self._send_files)
        self._right.addWidget(self.chat_page)
        self._right.setCurrentWidget(self.empty_state)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.connection_label = QLabel(self.tr("Offline"), self)
        self.connection_label.setObjectName("muted")
        self.connection_label.setContentsMargins(12, 3, 0, 4)  # not flush with the window edge
        bar.addWidget(self.connection_label, 1)
        self.backlog_label = QLabel(self)
        self.backlog_label.setObjectName("muted")
        self.backlog_label.hide()
        bar.addPermanentWidget(self.backlog_label)
        self.backlog_progress = QProgressBar(self)
        self.backlog_progress.setMaximumWidth(160)
        self.backlog_progress.setMaximumHeight(12)
        self.backlog_progress.setTextVisible(False)
        self.backlog_progress.hide()
        bar.addPermanentWidget(self.backlog_progress)

    def _refresh_icons(self) -> None:
        """Render icons and painted pixmaps for the current palette (light or dark)."""
        c = colours(self.palette())
        ratio = self.devicePixelRatioF()
        self.menu_button.setIcon(icon("menu", c.muted))
        self.copy_id_button.setIcon(icon("copy", c.muted))
        self.search_button.setIcon(icon("search", c.muted))
        self.info_button.setIcon(icon("info", c.muted))
        self.composer.attach_button.setIcon(icon("attach", c.muted))  # issue 10
        self._filter_icon_action.setIcon(icon("search", c.muted))
        self.action_add_contact.setIcon(icon("add-contact"))
        self.action_new_group.setIcon(icon("new-group"))
        self.action_search.setIcon(icon("search"))
        self.action_copy_id.setIcon(icon("copy"))
        self.action_export_html.setIcon(icon("export"))
        self.action_export_json.setIcon(icon("export"))
        self.action_group_info.setIcon(icon("info"))
        self.action_quit.setIcon(icon("quit"))
        self.own_avatar.setPixmap(avatar_pixmap(self._own_id, self._own_name, 36, ratio))
        self.empty_logo.setPixmap(app_icon().pixmap(QSize(96, 96), ratio))
        self._paint_header_avatar()

    def _paint_header_avatar(self) -> None:
        if self._current is None:
            return
        conversation, is_group = self._current
        self.header_avatar.setPixmap(
            avatar_pixmap(
                conversation,
                self.header_title.text(),
                40,
                self.devicePixelRatioF(),
                is_group=is_group,
            )
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        focused = self.focusWidget()
        if focused is None or focused is self.menu_button:
            self.focus_typing()

    def focus_typing(self) -> None:
        """Put the keyboard focus where typing belongs: the open chat's message field, or
        the chat filter when no chat is open."""
        if self._current is not None and self.composer.is_enabled():
            self.composer.focus_input()
        else:
            self.filter_box.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Typing while the chat list or the messages have the focus goes to the message
        field, as in Telegram: a letter never picks another chat by its name."""
        if (
            event.type() == QEvent.Type.KeyPress
            and watched in (self.conversation_list, self.chat_view)
            and isinstance(event, QKeyEvent)
            and self._forward_typing(event)
        ):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._forward_typing(event):
            super().keyPressEvent(event)

    def _forward_typing(self, event: QKeyEvent) -> bool:
        """Send a typed character to the message field (or, with no chat open, to the
        filter); True when it was one. Shortcuts and navigation keys are left alone."""
        text = event.text()
        modifiers = event.modifiers() & ~(
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        )
        if not text or not text.isprintable() or modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        target: QWidget = self.filter_box
        if self._current is not None and self.composer.is_enabled():
            target = self.composer.input
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        copy = QKeyEvent(
            QEvent.Type.KeyPress, event.key(), event.modifiers(), text, event.isAutoRepeat()
        )
        QCoreApplication.sendEvent(target, copy)
        return True

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if not getattr(self, "_ready", False):  # events sent while __init__ runs
            return
        if event.type() == QEvent.Type.PaletteChange:
            self._refresh_icons()
        elif event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self._report_read_position()

    # --- public API for the controller ---

    def reload_conversations(self) -> None:
        """Read the conversation list again, now, on this thread (a contact or group the
        user just added, which is opened next). The selected conversation stays selected.
        For what the client core reports, :meth:`schedule_reload` is the cheaper way."""
        self._apply_conversations(self._store.conversations_summary())

    def schedule_reload(self) -> None:
        """Refresh the conversation list soon, once however often this is called before
        (a chunk of events asks many times), reading it on the history's reader thread.
        Without a running event loop it is read at once."""
        self._reload_soon.start()

    def _fetch_conversations(self) -> None:
        if self._shut_down:
            return
        if self._fetching is not None:
            self._refetch = True  # one more when this one is in
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no running event loop (the window driven synchronously)
            self.reload_conversations()
            return
        self._fetching = self._store.read(lambda history: history.conversations_summary())
        self._fetching.add_done_callback(self._conversations_fetched)

    def shut_down(self) -> None:
        """The history is about to close: read nothing more from it (timers stopped,
        answers still on their way ignored). Call before closing the store."""
        self._shut_down = True
        for timer in (self._reload_soon, self._refetch_timer, self._flood_timer, self._draft_timer):
            timer.stop()

    def _conversations_fetched(self, future: asyncio.Future[list[ConversationSummary]]) -> None:
        self._fetching = None
        if future.cancelled() or self._shut_down:
            return
        error = future.exception()
        if error is not None:
            log.error("reading the conversation list failed", exc_info=error)
        else:
            self._apply_conversations(future.result())
        if self._refetch:  # changed meanwhile: once more, after a breath (a catch-up asks
            self._refetch = False  # many times a second)
            self._refetch_timer.start()

    def _apply_conversations(self, rows: list[ConversationSummary]) -> None:
        self._selecting = True
        try:
            self.conversation_model.set_rows(rows)
        finally:
            self._selecting = False
        self._archived_count = sum(1 for row in rows if row.archived)
        self._show_archive_button()
        total = sum(row.unread for row in rows)
        if total != self.unread_total:
            self.unread_total = total
            self.unread_changed.emit(total)
        empty = self.conversation_filter.rowCount() == 0 and not self._archived_count
        self.conversation_list.setVisible(not empty)
        self.no_conversations.setVisible(empty)
        if self._current is not None:
            self._update_header()

    def open_conversation(self, conversation: str, is_group: bool) -> None:
        """Show ``conversation`` (selecting it in the list) and emit
        :attr:`conversation_opened`. Opening the one already shown only selects it."""
        row = self.conversation_model.row_of(conversation)
        if row is None:
            self.reload_conversations()
            row = self.conversation_model.row_of(conversation)
        if row is not None:
            proxy_index = self.conversation_filter.mapFromSource(
                self.conversation_model.index(row, 0)
            )
            if not proxy_index.isValid():
                self.filter_box.clear()
                proxy_index = self.conversation_filter.mapFromSource(
                    self.conversation_model.index(row, 0)
                )
            self._selecting = True
            try:
                self.conversation_list.setCurrentIndex(proxy_index)
            finally:
                self._selecting = False
        if self._current != (conversation, is_group):
            self._show_conversation(conversation, is_group)

    def close_conversation(self) -> None:
        """Show no chat (the one shown was blocked, for example)."""
        self.flush_draft()
        self.chat_view.stop_selecting()
        self._stop_typing()
        self._current = None
        self.message_model.close()
        self._right.setCurrentWidget(self.empty_state)
        self.conversation_list.clearSelection()
        self.focus_typing()

    def flush_draft(self) -> None:
        """Emit :attr:`draft_changed` for the open chat when its draft changed since it
        was last emitted (the controller stores it). Called on leaving a chat, after a
        pause in typing, and before quitting."""
        self._draft_timer.stop()
        if self._current is None:
            return
        conversation = self._current[0]
        text = self.composer.draft_text()
        if text == self._draft_shown:
            return
        self._draft_shown = text
        self._drafts[conversation] = text
        self.draft_changed.emit(conversation, text)

    def set_typing(self, conversation: str, names: Sequence[str]) -> None:
        """``names`` (display names, in the order they started) are typing in
        ``conversation`` (empty: nobody): shown in its row of the list and, when it is
        open, in the chat's header instead of its subtitle."""
        text = typing_text(list(names))
        if text:
            self._typing[conversation] = text
        else:
            self._typing.pop(conversation, None)
        self.conversation_model.set_typing(conversation, text)
        if self._current is not None and self._current[0] == conversation:
            self._update_header()

    def set_presence(self, client_id: str, online: bool | None, last_seen: int | None) -> None:
        """What we know of ``client_id``'s presence (``online`` ``None``: not shown to
        us): the subtitle of its direct chat says "online" / "last seen …", or its ID."""
        if online is None:
            self._presence.pop(client_id, None)
        else:
            self._presence[client_id] = (online, last_seen)
        if self._current == (client_id, False):
            self._update_header()

    def typing_shown(self, conversation: str) -> str:
        """What :meth:`set_typing` shows for ``conversation`` now (``""``: nothing)."""
        return self._typing.get(conversation, "")

    def _composer_edited(self, text: str) -> None:
        if self._current is None or not self.composer.is_enabled():
            return
        conversation, is_group = self._current
        if text.strip():
            self.typing_edited.emit(conversation, is_group)
        else:
            self.typing_stopped.emit(conversation, is_group)

    def _stop_typing(self) -> None:
        if self._current is not None:
            self.typing_stopped.emit(*self._current)

    def _draft_typed(self) -> None:
        if self._current is not None and self.composer.text() != self._draft_shown:
            self._draft_timer.start()

    def current_conversation(self) -> tuple[str, bool] | None:
        """``(conversation, is_group)`` shown now, or ``None``."""
        return self._current

    def messages_received(self, messages: Sequence[StoredMessage]) -> None:
        """New messages were stored (received, or queued by :attr:`send_requested`): add
        those of the open chat and refresh the list's previews and unread badges.

        A few are shown at once; a flood (a backlog streaming into the open chat) is
        gathered and shown :data:`FLOOD_FRAME_MS` at a time, so the chat is laid out ten
        times a second rather than once per chunk."""
        if self._current is not None:
            conversation = self._current[0]
            mine = [m for m in messages if m.conversation == conversation]
            if self._flood or len(mine) >= FLOOD_ROWS:
                self._flood += mine
                if not self._flood_timer.isActive():
                    self._flood_timer.start()
            elif mine:
                self.message_model.add_messages(mine, follow=self.chat_view.following_bottom())
        self.schedule_reload()

    def _show_flood(self) -> None:
        flood, self._flood = self._flood, []
        if flood and self._current is not None and not self._shut_down:
            self.message_model.add_messages(flood, follow=self.chat_view.following_bottom())

    def message_status_changed(
        self, conversation: str, local_ids: Sequence[int], status: MessageStatus
    ) -> None:
        """Delivery state changed (``MessageStatusChanged``): repaint the ticks in the chat
        now, and the list's once the current burst of changes is over (the receipts of
        a login can touch hundreds of conversations at once)."""
        if self._current is not None and self._current[0] == conversation:
            self.message_model.update_status(local_ids, status)
        self.schedule_reload()

    def message_sent(self, message: StoredMessage) -> None:
        """A queued message was accepted by the server (``MessageSent``): it gets its tick
        and maybe moves to its final place."""
        if self._current is not None and self._current[0] == message.conversation:
            self.message_model.message_sent(message)
        self.schedule_reload()

    def set_connection_state(self, text: str, *, online: bool) -> None:
        """Show the connection state (translated by the caller) in the status bar."""
        dot = "#3ba74e" if online else "#d98a1f"
        self.connection_label.setText(f'<span style="color:{dot}">●</span> {text}')
        self.connection_label.setProperty("online", online)

    def set_backlog_progress(self, received: int, total: int) -> None:
        """Progress of the backlog after login ("Receiving 12,400 of 100,000…", as Telegram
        does); hidden once ``received >= total``."""
        if total <= 0 or received >= total:
            self.backlog_progress.hide()
            self.backlog_label.hide()
            return
        locale = QLocale()
        text = (
            self.tr("Receiving %1 of %2…")
            .replace("%1", locale.toString(received))
            .replace("%2", locale.toString(total))
        )
        self.backlog_progress.setRange(0, total)
        self.backlog_progress.setValue(received)
        self.backlog_progress.setToolTip(text)
        self.backlog_label.setText(text)
        self.backlog_label.show()
        self.backlog_progress.show()

    def show_message(self, local_id: int) -> bool:
        """Open the message's conversation and scroll to it with a brief highlight (a
        search hit). Returns False when the message does not exist."""
        message = self._store.message(local_id)
        if message is None:
            return False
        self.open_conversation(message.conversation, message.is_group)
        return self.chat_view.scroll_to_message(local_id)

    def set_composer_enabled(self, enabled: bool, reason: str = "") -> None:
        """Allow or forbid writing in the open chat, with the reason shown instead of the
        field. Applies until another conversation is opened."""
        self._composer_override = (enabled, reason)
        self.composer.set_enabled(enabled, reason)

    def set_own_name(self, name: str) -> None:
        """The user's display name changed."""
        self._own_name = name
        self.own_name_label.setText(bidi_safe(name))
        self._refresh_icons()

    # --- internals ---

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._selecting or not current.isValid():
            return
        conversation = current.data(ConversationRole.ID)
        is_group = bool(current.data(ConversationRole.IS_GROUP))
        if isinstance(conversation, str) and self._current != (conversation, is_group):
            self._show_conversation(conversation, is_group)

    def _row_chosen(self, index: QModelIndex) -> None:
        """A click (or Enter) on a row, the open chat's own included: show it and go
        back to typing."""
        self._current_row_changed(index, QModelIndex())
        self.focus_typing()

    def _open_first_filtered(self) -> None:
        if self.conversation_filter.rowCount() > 0:
            self.conversation_list.setCurrentIndex(self.conversation_filter.index(0, 0))
            self.composer.focus_input()

    def _show_conversation(self, conversation: str, is_group: bool) -> None:
        self.flush_draft()
        self.chat_view.stop_selecting()
        self._stop_typing()
        self._flood = []  # the chat is read afresh
        self._current = (conversation, is_group)
        self._composer_override = None
        self._set_mention_candidates(conversation, is_group)
        self.message_model.open(conversation, is_group)
        self._right.setCurrentWidget(self.chat_page)
        self._update_header()
        for action in (self.action_export_html, self.action_export_json):
            action.setEnabled(True)
        self.action_group_info.setEnabled(is_group)
        self.action_group_info.setVisible(is_group)
        draft = self._drafts.get(conversation)
        if draft is None:
            draft = self._store.draft(conversation)
        self._draft_shown = draft
        self.composer.cancel_action()
        self.composer.set_text(draft)
        self._draft_timer.stop()
        self.composer.input.moveCursor(QTextCursor.MoveOperation.End)
        title = isolate(self._store.conversation_title(conversation))
        self.chat_view.set_placeholder(
            self.tr("No messages here yet"),
            self.tr("Say hi to the group!") if is_group else fill(self.tr("Say hi to %1!"), title),
        )
        self.chat_view.scroll_to_open_position()
        self.composer.focus_input()
        log.debug("conversation %s opened", conversation)
        self.conversation_opened.emit(conversation, is_group)

    def _update_header(self) -> None:
        if self._current is None:
            return
        conversation, is_group = self._current
        title = isolate(self._store.conversation_title(conversation))
        self.header_title.setText(bidi_safe(self._store.conversation_title(conversation)))
        self._paint_header_avatar()
        enabled, reason = True, ""
        if is_group:
            group = self._store.group(conversation)
            if group is None:
                subtitle = conversation
            else:
                names = [
                    isolate(name)
                    for name in sorted(
                        (self.tr("You") if m.client_id == self._own_id else m.display_name)
                        for m in group.members
                    )
                ]
                count = len(group.members)
                subtitle = (
                    self.tr("1 member")
                    if count == 1
                    else self.tr("%1 members").replace("%1", str(count))
                )
                if names:
                    subtitle += ": " + ", ".join(names)
                if group.left:
                    enabled = False
                    reason = self.tr("You are no longer a member of this group.")
            self.header_subtitle.setText(
                self.header_subtitle.fontMetrics().elidedText(
                    subtitle, Qt.TextElideMode.ElideRight, max(120, self.chat_header.width() - 180)
                )
            )
            self.header_subtitle.setToolTip(plain_tooltip(subtitle))
        else:
            presence = self._presence.get(conversation)
            if presence is None:  # hidden from us: the ID, as before presence existed
                self.header_subtitle.setText(self.tr("ID %1").replace("%1", conversation))
            else:
                self.header_subtitle.setText(presence_text(*presence, today=self.today))
            self.header_subtitle.setToolTip(self.tr("ID %1").replace("%1", conversation))
        typing = self._typing.get(conversation, "")
        if typing:
            self.header_subtitle.setText(typing)
        online = not is_group and self._presence.get(conversation, (False, None))[0]
        self._set_subtitle_live(bool(typing) or online)
        stranger = (
            not is_group
            and conversation != self._own_id
            and self._store.contact(conversation) is None
        )
        self.contact_banner.setVisible(stranger)
        self.contact_banner_label.setText(
            fill(self.tr("%1 is not in your contacts."), title) if stranger else ""
        )
        self.action_add_to_contacts.setVisible(stranger)
        self.action_block.setVisible(stranger)
        if self._composer_override is not None:
            enabled, reason = self._composer_override
        self.composer.set_enabled(enabled, reason)

    def start_reply(self, local_id: int) -> None:
        """Answer message ``local_id`` of the open chat (the chat's "Reply")."""
        message = self._store.message(local_id)
        if (
            message is None
            or is_system_line(message)
            or self._current is None
            or message.conversation != self._current[0]
        ):
            return
        sender = (
            self.tr("You")
            if message.direction == "out"
            else (message.sender_name or message.sender or "")
        )
        self.composer.start_reply(local_id, sender, message.text)

    def start_edit(self, local_id: int) -> None:
        """Edit our message ``local_id`` in the composer (the chat's "Edit")."""
        message = self._store.message(local_id)
        if (
            message is None
            or message.direction != "out"
            or message.seq is None
            or message.deleted is not None
            or self._current is None
            or message.conversation != self._current[0]
        ):
            return
        self.composer.start_edit(local_id, message.text)

    def edit_last_message(self) -> bool:
        """Up in the empty composer: edit our newest sent message of the open chat among
        those loaded (the newest are, when the user is typing). False when there is none."""
        model = self.message_model
        for row in range(model.rowCount() - 1, -1, -1):
            message = model.message(row)
            if (
                message is not None
                and message.direction == "out"
                and message.seq is not None
                and message.deleted is None
            ):
                self.start_edit(message.local_id)
                return True
        return False

    def _selection_mode_changed(self, selecting: bool) -> None:
        """Selection mode shows the bar (count, Forward, Delete, Cancel) instead of the
        composer, as Telegram does."""
        self.selection_bar.setVisible(selecting)
        self.composer.setVisible(not selecting)
        self._update_selection_bar()
        if not selecting and self._current is not None:
            self.composer.focus_input()

    def _update_selection_bar(self, *_args: object) -> None:
        if not self.selection_bar.isVisibleTo(self):
            return
        count = len(self.chat_view.selected_messages())
        self.selection_count.setText(self.tr("%n message(s) selected", "", count))
        self.selection_forward.setEnabled(bool(self.chat_view.forwardable_selection()))
        self.selection_delete.setEnabled(bool(self.chat_view.deletable_selection()))

    def _emit_selection(self, local_ids: list[int], *, forward: bool) -> None:
        if not local_ids:
            return
        if forward:
            self.forward_requested.emit(local_ids)
        else:
            self.delete_messages_requested.emit(local_ids)

    def messages_updated(self, conversation: str, local_ids: Sequence[int]) -> None:
        """Messages were edited, deleted or reacted to (``MessagesUpdated``): repaint
        those of the open chat in place; the list's preview may change too."""
        if self._current is not None and self._current[0] == conversation:
            self.message_model.refresh_messages(local_ids)
            target = self.composer.edit_target
            if target is not None and target in local_ids:
                edited = self._store.message(target)
                if edited is None or edited.deleted is not None:
                    self.composer.cancel_action()
        self.schedule_reload()

    def _set_mention_candidates(self, conversation: str, is_group: bool) -> None:
        group = self._store.group(conversation) if is_group else None
        if group is None:
            self.composer.set_mention_candidates({})
            self.chat_view.delegate.set_mention_names([])
            return
        others = {m.display_name: m.client_id for m in group.members if m.client_id != self._own_id}
        self.composer.set_mention_candidates(others)
        self.chat_view.delegate.set_mention_names([*others, self._own_name])

    # --- mute, pin, archive ---

    def chat_settings_actions(self, conversation: str, parent: QMenu) -> list[QAction]:
        """The Mute / Unmute, Pin / Unpin and Archive / Unarchive entries for
        ``conversation``, as its context menu in the list and the chat menu show them."""
        settings = self._store.chat_settings(conversation)
        actions: list[QAction] = []
        if settings.muted(now_ms()):
            unmute = QAction(self.tr("Unmute"), parent)
            unmute.setObjectName("unmute")
            unmute.triggered.connect(lambda: self.mute_requested.emit(conversation, 0))
            actions.append(unmute)
        else:
            mute_menu = QMenu(self.tr("Mute"), parent)
            mute_menu.setIcon(icon("muted"))
            for name, text, seconds in (
                ("mute_1h", self.tr("For 1 hour"), 3600),
                ("mute_8h", self.tr("For 8 hours"), 8 * 3600),
                ("mute_forever", self.tr("Until I unmute it"), MUTE_FOREVER),
            ):
                action = mute_menu.addAction(text)
                action.setObjectName(name)
                action.triggered.connect(
                    lambda _=False, s=seconds: self.mute_requested.emit(conversation, s)
                )
            mute = mute_menu.menuAction()
            mute.setObjectName("mute")
            actions.append(mute)
        pin = QAction(self.tr("Unpin") if settings.pinned else self.tr("Pin to top"), parent)
        pin.setObjectName("unpin" if settings.pinned else "pin")
        pin.triggered.connect(lambda: self.pin_requested.emit(conversation, not settings.pinned))
        actions.append(pin)
        archive = QAction(self.tr("Unarchive") if settings.archived else self.tr("Archive"), parent)
        archive.setObjectName("unarchive" if settings.archived else "archive")
        archive.triggered.connect(
            lambda: self.archive_requested.emit(conversation, not settings.archived)
        )
        actions.append(archive)
        return actions

    def conversation_menu(self, conversation: str) -> QMenu:
        """The context menu of ``conversation``'s row in the list."""
        menu = QMenu(self)
        for action in self.chat_settings_actions(conversation, menu):
            menu.addAction(action)
        return menu

    def _list_context_menu(self, pos: QPoint) -> None:
        index = self.conversation_list.indexAt(pos)
        conversation = index.data(ConversationRole.ID) if index.isValid() else None
        if isinstance(conversation, str):
            menu = self.conversation_menu(conversation)
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.conversation_list.viewport().mapToGlobal(pos))

    def _fill_chat_menu(self) -> None:
        for action in self._chat_menu_extra:  # rebuilt at each opening: no leftovers
            self.chat_menu.removeAction(action)
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                submenu.deleteLater()
            else:
                action.deleteLater()
        self._chat_menu_extra = []
        if self._current is None:
            return
        existing = self.chat_menu.actions()
        actions = self.chat_settings_actions(self._current[0], self.chat_menu)
        separator = QAction(self.chat_menu)
        separator.setSeparator(True)
        for action in [*actions, separator]:
            if existing:
                self.chat_menu.insertAction(existing[0], action)
            else:
                self.chat_menu.addAction(action)
        self._chat_menu_extra = [*actions, separator]

    def show_archived(self, archived: bool) -> None:
        """Show the "Archived" section (True) or the main list."""
        self.conversation_filter.set_archived(archived)
        self._show_archive_button()

    def _toggle_archived(self) -> None:
        self.show_archived(not self.conversation_filter.archived)

    def _show_archive_button(self) -> None:
        if self.conversation_filter.archived:
            self.archive_button.setText(self.tr("← Back to chats"))
            self.archive_button.setVisible(True)
        else:
            self.archive_button.setText(
                self.tr("Archived chats (%1)").replace("%1", str(self._archived_count))
            )
            self.archive_button.setVisible(self._archived_count > 0)
        self.archive_button.setIcon(icon("archive", colours(self.palette()).muted))

    def _set_subtitle_live(self, live: bool) -> None:
        """The subtitle in the accent colour (typing, online) or muted."""
        if bool(self.header_subtitle.property("live")) != live:
            self.header_subtitle.setProperty("live", live)
            self.header_subtitle.style().unpolish(self.header_subtitle)
            self.header_subtitle.style().polish(self.header_subtitle)

    def _send(self, text: str) -> None:
        if self._current is None:
            return
        conversation, is_group = self._current
        reply_to = self.composer.reply_target
        self.flush_draft()  # the field is empty now: no draft any more
        self.typing_stopped.emit(conversation, is_group)
        mentions = self.composer.sent_mentions if is_group else []
        self.message_model.clear_unread_marker()
        self.chat_view.scroll_to_bottom()
        if not self.message_model.at_end:
            self.message_model.reload()
            self.chat_view.scroll_to_bottom()
        if reply_to is not None:
            self.reply_requested.emit(conversation, is_group, text, reply_to, mentions)
        elif mentions:
            self.send_with_mentions_requested.emit(conversation, is_group, text, mentions)
        else:
            self.send_requested.emit(conversation, is_group, text)

    def _open_title(self) -> str | None:
        """issue 10: the open conversation's name, or ``None`` when none is open or the
        composer is disabled (a group one left)."""
        if self._current is None or not self.composer.is_enabled():
            return None
        return self._store.conversation_title(self._current[0])

    def _send_files(self, paths: list[object], caption: str) -> None:
        if self._current is None:
            return
        conversation, is_group = self._current
        self.message_model.clear_unread_marker()
        self.chat_view.scroll_to_bottom()
        self.send_files_requested.emit(conversation, is_group, paths, caption)

    def _export(self, fmt: str) -> None:
        if self._current is not None:
            self.export_requested.emit(self._current[0], fmt)

    def _request_add_to_contacts(self) -> None:
        if self._current is not None and not self._current[1]:
            self.add_to_contacts_requested.emit(self._current[0])

    def _request_block(self) -> None:
        if self._current is not None and not self._current[1]:
            self.block_requested.emit(self._current[0])

    def _request_group_info(self) -> None:
        if self._current is not None and self._current[1]:
            self.group_info_requested.emit(self._current[0])

    def _report_read_position(self) -> None:
        if self._current is None or not self.isActiveWindow() or not self.isVisible():
            return
        rows = self.chat_view.visible_rows()
        if rows is None:
            return
        seq = self.message_model.newest_incoming_seq(*rows)
        conversation, is_group = self._current
        if seq is None or seq <= self._read_sent.get(conversation, -1):
            return
        self._read_sent[conversation] = seq
        self.read_position_changed.emit(conversation, is_group, seq)


__all__ = ["MainWindow", "avatar_pixmap"]
