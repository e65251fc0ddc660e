"""The desktop client's core: registering, the connection loop, sending and receiving. No Qt.

:func:`register_client` obtains a new identity (the caller saves it).
:class:`MessengerClient` keeps one identity connected: it connects on :meth:`start`,
reconnects with backoff after any failure, stores every incoming message in the
:class:`~messenger_gui.storage.ClientStore` before acknowledging it, applies the others'
delivery and read markers (``receipts``) to the ticks of our messages, sends the on-disk
outbox after every login, and reports every change through :attr:`MessengerClient.events`
(:mod:`messenger_gui.events`). It runs on the current asyncio loop (qasync's in the app) and
never blocks it. ``docs/client.md`` is the contract the user interface codes against.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import re
import tempfile
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import msgspec

from messenger_gui.client_ids import normalize_client_id
from messenger_gui.connection import (
    CERTIFICATE_MISMATCH,
    CERTIFICATE_UNTRUSTED,
    CertificateError,
    ConnectionClosed,
    NotConnectedError,
    RequestError,
    ServerConnection,
    TlsOptions,
)
from messenger_gui.events import (
    ActionFailed,
    BacklogProgress,
    ConnectionState,
    ConversationsChanged,
    Event,
    MessageDeleted,
    MessageFailed,
    MessageRetried,
    MessageSent,
    MessagesReceived,
    MessageStatusChanged,
    MessagesUpdated,
    PresenceChanged,
    Signal,
    StateChanged,
    SystemLinesAdded,
    TypingChanged,
)
from messenger_gui.storage import (
    Chunk,
    ClientData,
    ClientStore,
    Contact,
    OutgoingEntry,
    OutgoingMessage,
    StatusChange,
    StoredGroup,
    StoredMessage,
    system_line,
)
from messenger_gui.storage.files import StoredFile, caption_of
from messenger_gui.transfers import AUTO_DOWNLOAD_BYTES, Transfers, UploadRefused
from messenger_server import __version__, protocol
from messenger_server.session import TypingIndicators, TypingNotices

__all__ = [
    "CERTIFICATE_MISMATCH",
    "CERTIFICATE_UNTRUSTED",
    "CertificateError",
    "ConnectionClosed",
    "MessengerClient",
    "NotConnectedError",
    "RequestError",
    "backoff_delay",
    "normalize_client_id",
    "register_client",
]

log = logging.getLogger(__name__)

Code = protocol.ErrorCode

CLIENT_NAME: Final = f"messenger-desktop/{__version__}"[:64]
"""What ``hello`` says about this program (informational)."""

REFUSING_CODES: Final = frozenset(
    {
        Code.INVALID_CREDENTIALS,
        Code.UNKNOWN_CLIENT,
        Code.CLIENT_DISABLED,
        Code.UNSUPPORTED_VERSION,
        CERTIFICATE_UNTRUSTED,
        CERTIFICATE_MISMATCH,
    }
)
"""Failures that retrying cannot fix: the state becomes ``REFUSED`` and the loop ends."""

RETRYABLE_SEND_CODES: Final = frozenset(
    {
        Code.RATE_LIMITED,
        Code.INTERNAL_ERROR,
        Code.RECIPIENT_FULL,
        Code.QUOTA_EXCEEDED,
        Code.STORAGE_FULL,
    }
)
"""``send`` errors that say "not now": the message stays in the outbox and its
conversation is sent again later, with a growing delay (:meth:`MessengerClient._hold`);
any other error code marks it failed in the store
(:meth:`~messenger_gui.storage.ClientStore.mark_failed`,
:class:`~messenger_gui.events.MessageFailed`) until the user retries it."""

SEARCH_INDEX_BATCH: Final = 5000
"""Messages put in the search index per transaction after a backlog."""
MAX_MERGED_CHUNKS: Final = 16
"""Chunks stored in one transaction when they queued up behind a slow disk."""
_STORED_FRAMES: Final = (
    protocol.Message,
    protocol.Receipts,
    protocol.GroupUpdate,
    protocol.Sent,
    protocol.Synced,
    protocol.Edited,
    protocol.Deleted,
    protocol.Reacted,
)
"""Frames :meth:`MessengerClient.receive_messages` stores or acts on."""
MAX_SENDS_IN_FLIGHT: Final = 500
"""Outbox messages sent without their ``sent`` reply yet (below the server's burst)."""
_ENTRY_FRAMES: Final = (protocol.Edited, protocol.Deleted, protocol.Reacted)
"""Entries of a conversation's log that are not messages (protocol section 12.2)."""
SEND_RETRY_DELAY: Final = 1.0
"""Seconds before sending again after ``rate_limited``."""
TYPING_IDLE_CHECK: Final = 1.0
"""Seconds between looks for a user who stopped typing without sending (``typing`` off)."""
SEND_RETRY_BASE: Final = 1.0
"""Seconds before the first new attempt after a retryable refusal (doubling after each
refusal in a row, up to :data:`SEND_RETRY_CAP`, with jitter)."""
SEND_RETRY_CAP: Final = 300.0


def backoff_delay(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before the next attempt after ``failures`` failed ones in a row:
    "full jitter", uniform in ``[0, min(cap, base * 2**failures)]``, so that many clients
    cut off together do not come back together."""
    return rng.uniform(0, min(cap, base * 2 ** min(failures, 32)))


def _check_display_name(name: str) -> None:
    if not name.strip():
        raise ValueError("the display name must not be blank")
    if len(name) > protocol.MAX_DISPLAY_NAME_CHARS:
        raise ValueError(
            f"the display name is longer than {protocol.MAX_DISPLAY_NAME_CHARS} characters"
        )
    if re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", name):
        raise ValueError("the display name must not contain control characters")


def _closed_error(connection: ServerConnection, error: NotConnectedError) -> RequestError:
    """The error to report when a connection ended while waiting: the server's
    ``goodbye`` code when it said one, else ``error`` itself."""
    if connection.goodbye is not None:
        return RequestError(connection.goodbye.code, connection.goodbye.message)
    return error


async def register_client(
    host: str,
    port: int,
    display_name: str,
    *,
    invite: str | None = None,
    use_tls: bool = False,
    ca_file: str | Path | None = None,
    trust_on_first_use: bool = True,
    timeout: float = 10.0,
) -> ClientData:
    """Ask the server at ``host:port`` for a new identity named ``display_name``.

    Opens one short connection: ``hello``, ``register``, close. Nothing is stored here: save
    the result at once with ``storage.save_client_data`` (the credential is never shown
    again), then create a :class:`MessengerClient` with it. ``invite`` is an invite code
    from the server's administrator (``7KQM-4XPA-B8NZ``), needed when its registration is
    ``"invite"``.

    With ``use_tls``, the certificate is first verified against ``ca_file`` (or the system
    CA store); one that verifies needs no pin (``tls_fingerprint`` stays ``None``). When it
    does not verify and ``trust_on_first_use`` is set, the certificate is accepted and its
    SHA-256 fingerprint is returned in ``ClientData.tls_fingerprint``: every later
    connection accepts exactly that certificate. Show it to the user to compare with the
    administrator's.

    Raises:
        ValueError: ``display_name`` is blank, too long or has control characters.
        RequestError: the server refused (``registration_closed``, ``invite_required``,
            ``invalid_invite``, ``rate_limited``, ``storage_full``, ``unsupported_version``,
            or the code of its ``goodbye``).
        CertificateError: TLS without trust on first use and an unverifiable certificate.
        NotConnectedError: the server could not be reached, or the connection broke.
    """
    _check_display_name(display_name)
    options: TlsOptions | None = None
    if use_tls:
        options = TlsOptions(ca_file=ca_file)

    def ignore(_connection: ServerConnection, _frames: Sequence[protocol.ServerFrame]) -> None:
        pass

    async def open_connection(tls_options: TlsOptions | None) -> ServerConnection:
        try:
            return await ServerConnection.open(
                host,
                port,
                ignore,
                tls_options=tls_options,
                connect_timeout=timeout,
                request_timeout=timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise NotConnectedError(
                f"cannot reach {host}:{port}: {exc or type(exc).__name__}"
            ) from None

    pinned = False
    try:
        connection = await open_connection(options)
    except CertificateError as exc:
        if not (trust_on_first_use and exc.code == CERTIFICATE_UNTRUSTED):
            raise
        log.info("%s:%d: certificate not verifiable, trusting it on first use", host, port)
        connection = await open_connection(TlsOptions(accept_any=True))
        pinned = True
    try:
        welcome = await connection.request(
            lambda rid: protocol.Hello(
                id=rid, protocol=protocol.PROTOCOL_VERSION, client=CLIENT_NAME
            ),
            protocol.Welcome,
        )
        if welcome.protocol != protocol.PROTOCOL_VERSION:
            raise RequestError(Code.UNSUPPORTED_VERSION, f"server speaks {welcome.protocol}")
        if welcome.registration == "closed":
            raise RequestError(
                Code.REGISTRATION_CLOSED, "the server does not accept new registrations"
            )
        registered = await connection.request(
            lambda rid: protocol.Register(id=rid, display_name=display_name, invite=invite),
            protocol.Registered,
        )
    except NotConnectedError as exc:
        raise _closed_error(connection, exc) from None
    finally:
        await connection.close()
    log.info("registered as %s on %s:%d", registered.client_id, host, port)
    return ClientData(
        server_host=host,
        server_port=port,
        use_tls=use_tls,
        client_id=registered.client_id,
        credential=registered.credential,
        display_name=registered.display_name,
        tls_fingerprint=connection.peer_fingerprint if pinned else None,
    )


class MessengerClient:
    """Keeps one identity connected to its server and its local history in step.

    Args:
        store: the profile's history; written before anything is acknowledged.
        identity: who we are and where the server is (``ClientData``).
        ca_file: a PEM file of CAs to verify the server against instead of the system
            store (used when ``identity.use_tls`` and no fingerprint is pinned).
        backoff_base, backoff_cap: the reconnect delay is uniform in
            ``[0, min(cap, base * 2**failures)]`` (full jitter); reset after a login.
        ping_interval: send ``ping`` after this many seconds without traffic in either
            direction (below the server's 300 s idle timeout).
        pong_timeout: a ``ping`` unanswered this long means the connection is dead.
        request_timeout: any request unanswered this long closes the connection.
        connect_timeout: limit for TCP connect and TLS handshake.
        rng: the source of the backoff's jitter (tests pass a predictable one).
        auto_download_bytes: received images up to this size are downloaded at once
            (issue 10; 0: never).

    Call :meth:`start` from the running loop, subscribe to :attr:`events`, and
    ``await`` :meth:`stop` before closing the store.
    """

    def __init__(
        self,
        store: ClientStore,
        identity: ClientData,
        *,
        ca_file: str | Path | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        ping_interval: float = 60.0,
        pong_timeout: float = 30.0,
        request_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        send_retry_base: float = SEND_RETRY_BASE,
        send_retry_cap: float = SEND_RETRY_CAP,
        rng: random.Random | None = None,
        auto_download_bytes: int = AUTO_DOWNLOAD_BYTES,
    ) -> None:
        self.store = store
        self.identity = identity
        self.events: Signal[Event] = Signal()
        """Every :data:`~messenger_gui.events.Event`, synchronously, after it was stored."""
        self._ca_file = ca_file
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._send_retry_base = send_retry_base
        self._send_retry_cap = send_retry_cap
        self._random = rng or random.Random()
        self._state = ConnectionState.OFFLINE
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._connection: ServerConnection | None = None
        """The logged-in connection, ``None`` when not ``ONLINE``."""
        self._connection_tasks: set[asyncio.Task[None]] = set()
        self._receiving: asyncio.Queue[Sequence[protocol.ServerFrame] | None] | None = None
        """Chunks read and not stored yet, in order (see :meth:`_receive_loop`)."""
        self._receiver: asyncio.Task[None] | None = None
        self._chunks_queued = 0
        self._chunks_done = 0
        self._chunk_stored = asyncio.Event()
        self._store_tasks: set[asyncio.Task[None]] = set()
        self._indexer: asyncio.Task[None] | None = None
        """Writes that must finish even when the connection ends (a send refused)."""
        self._outbox_changed = asyncio.Event()
        self._send_window = asyncio.Event()
        self._in_flight: set[str] = set()
        self._held: dict[str, tuple[float, int]] = {}
        """Conversations whose sends the server refused for now: (loop time before which
        none of their messages is sent, refusals in a row). See :meth:`_hold`."""
        self._syncing = False
        """Between ``logged_in`` and ``synced``: what arrives is the backlog."""
        self._texts_before_list: dict[str, tuple[str, str]] = {}
        """Name and description of groups as stored before ``list_groups`` replaced them
        while the backlog still came: its renames are found by comparing with these."""
        self._backlog_total = 0
        self._backlog_received = 0
        self.limits = protocol.Limits()
        """The limits the server announced in its last ``welcome``."""
        # issue 10: files. In-memory stores (tests) keep their files in a temporary folder.
        directory = (
            store.path.parent
            if store.path is not None
            else Path(tempfile.gettempdir()) / f"messenger-files-{id(self)}"
        )
        self.transfers = Transfers(store, directory, auto_download_bytes=auto_download_bytes)
        """Uploads and downloads of files (:mod:`messenger_gui.transfers`): its
        ``events`` report progress and every change of a file's state."""
        self.privacy: protocol.Visibility | None = None
        """Who sees our presence, as the user chose it (``None``: never chosen, the
        server's default "nobody"); sent after every login. Set it before :meth:`start`
        from the saved settings, change it with :meth:`set_privacy`."""
        self._typing_out = TypingNotices()
        self._typing_drafts: dict[str, bool] = {}
        """Conversations whose draft we announced as being typed → whether a group."""
        self._typing_check: asyncio.TimerHandle | None = None
        self._typing_in = TypingIndicators()
        self._typing_shown: dict[str, tuple[str, ...]] = {}
        """conversation → who was last reported typing there (:class:`TypingChanged`)."""
        self._presence: dict[str, protocol.PresenceInfo] = {}

    # --- state and lifecycle ---

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def running(self) -> bool:
        """Whether the connect / reconnect loop is running (False once REFUSED/REPLACED)."""
        return self._task is not None and not self._task.done()

    def failed_messages(self) -> dict[int, str]:
        """``local_id`` → error code of queued messages the server refused for good
        (see :class:`~messenger_gui.events.MessageFailed`), as stored: they survive a
        restart and are not sent again until :meth:`retry_message`."""
        return {failure.local_id: failure.code for failure in self.store.failed_outgoing()}

    def _set_state(
        self,
        state: ConnectionState,
        *,
        retry_in: float | None = None,
        error_code: str | None = None,
        message: str = "",
    ) -> None:
        if state == self._state and state != ConnectionState.WAITING:
            return
        self._state = state
        log.info("connection %s%s", state.value, f" ({message})" if message else "")
        self.events.emit(StateChanged(state, retry_in, error_code, message))

    def start(self) -> None:
        """Start connecting, and reconnecting after failures, in the background. Does
        nothing when already running. Call it from code running on the event loop."""
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Close the connection and end the loop; the state becomes ``OFFLINE``. Queued
        messages stay in the outbox for the next start."""
        task, self._task = self._task, None
        # The flag as well as the cancel: Python 3.11's wait_for can swallow a
        # cancellation that coincides with a failed connect.
        self._stopping = True
        self._wake.set()
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=10)
        await self._drop_connection()
        if self._store_tasks:
            await asyncio.wait(list(self._store_tasks), timeout=10)
        if self._indexer is not None and not self._indexer.done():
            self._indexer.cancel()  # the batch under way finishes; the rest after next login
            await asyncio.wait([self._indexer], timeout=10)
        self._set_state(ConnectionState.OFFLINE)

    def reconnect_now(self) -> None:
        """Skip the remaining wait before the next attempt ("Retry now"). When the loop has
        ended (``REFUSED``, ``REPLACED``, ``OFFLINE``) this starts it, like :meth:`start`."""
        if self.running:
            self._wake.set()
        else:
            self.start()

    def _stop_requested(self) -> bool:
        return self._stopping

    async def _run(self) -> None:
        failures = 0
        while not self._stop_requested():
            self._set_state(ConnectionState.CONNECTING)
            code: str | None = None
            try:
                connection = await self.connect_client()
                failures = 0
                reason = await connection.wait_closed()
                message = reason.message
                if reason.goodbye is not None:
                    code = reason.goodbye.code
                    if code == Code.SESSION_REPLACED:
                        self._set_state(ConnectionState.REPLACED, error_code=code, message=message)
                        return
            except RequestError as exc:
                code, message = exc.code, exc.message
                if code in REFUSING_CODES:
                    self._set_state(ConnectionState.REFUSED, error_code=code, message=message)
                    return
            except (OSError, TimeoutError) as exc:
                message = f"cannot reach the server: {exc or type(exc).__name__}"
            except Exception as exc:  # a bug must not end the loop silently: retry later
                log.exception("connection attempt failed")
                message = f"internal error: {exc}"
            finally:
                await self._drop_connection()
            if self._stop_requested():
                return
            delay = backoff_delay(failures, self._backoff_base, self._backoff_cap, self._random)
            failures += 1
            self._set_state(
                ConnectionState.WAITING, retry_in=delay, error_code=code, message=message
            )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def connect_client(self) -> ServerConnection:
        """One connection attempt: connect (TLS when the identity says so), ``hello``,
        ``login``. On success the state is ``ONLINE`` and the connection keeps running in
        the background (backlog, groups, outbox, read markers); returns it, so the caller
        can wait for its end. The reconnect loop calls this; call it directly only when
        the loop is not running.

        Raises:
            RequestError: refused (``invalid_credentials``, ``unknown_client``,
                ``client_disabled``, ``unsupported_version``, a ``goodbye`` code...).
            CertificateError: the server's certificate is not trusted.
            NotConnectedError: the connection broke during the handshake.
            OSError, TimeoutError: the server could not be reached.
        """
        identity = self.identity
        options = None
        if identity.use_tls:
            options = TlsOptions(pinned_fingerprint=identity.tls_fingerprint, ca_file=self._ca_file)
        connection = await ServerConnection.open(
            identity.server_host,
            identity.server_port,
            self._on_frames,
            tls_options=options,
            connect_timeout=self._connect_timeout,
            request_timeout=self._request_timeout,
        )
        connection.on_chunks = self.transfers.on_chunks
        try:
            welcome = await connection.request(
                lambda rid: protocol.Hello(
                    id=rid, protocol=protocol.PROTOCOL_VERSION, client=CLIENT_NAME
                ),
                protocol.Welcome,
            )
            if welcome.protocol != protocol.PROTOCOL_VERSION:
                raise RequestError(Code.UNSUPPORTED_VERSION, f"server speaks {welcome.protocol}")
            self.limits = welcome.limits
            receipts_since = self.store.receipts_version()
            await connection.request(
                lambda rid: protocol.Login(
                    id=rid,
                    client_id=identity.client_id,
                    credential=identity.credential,
                    receipts_since=receipts_since,
                ),
                protocol.LoggedIn,
            )
        except NotConnectedError as exc:
            await connection.close()
            raise _closed_error(connection, exc) from None
        except BaseException:
            await connection.close()
            raise
        connection.start_keepalive(self._ping_interval, self._pong_timeout)
        self._spawn(self._after_login(connection))
        return connection

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        tasks = list(self._connection_tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if connection is not None:
            await connection.close()
        # What was read is stored and reported (not acknowledged: it comes again, and is
        # then recognised): the user sees what arrived before the connection ended.
        receiver, queue = self._receiver, self._receiving
        self._receiver = self._receiving = None
        if receiver is not None and queue is not None:
            queue.put_nowait(None)
            await asyncio.wait([receiver], timeout=30)
        self._in_flight.clear()
        self._syncing = False
        self._backlog_total = self._backlog_received = 0
        self._forget_live_state()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._connection_tasks.add(task)
        task.add_done_callback(self._connection_tasks.discard)

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a write and its event to the end, whatever happens to the connection."""
        task = asyncio.get_running_loop().create_task(coro)
        self._store_tasks.add(task)
        task.add_done_callback(self._store_tasks.discard)

    def _online(self) -> ServerConnection:
        connection = self._connection
        if connection is None or connection.closed:
            raise NotConnectedError()
        return connection

    # --- after login ---

    def _on_logged_in(self, connection: ServerConnection, reply: protocol.LoggedIn) -> None:
        self._connection = connection
        self._in_flight.clear()
        self._held.clear()  # a new session: try every conversation again
        self._receiving = asyncio.Queue()
        self._receiver = asyncio.get_running_loop().create_task(
            self._receive_loop(connection, self._receiving)
        )
        self._syncing = True
        self._texts_before_list.clear()
        self._backlog_total = reply.pending
        self._backlog_received = 0
        self._set_state(ConnectionState.ONLINE)
        if reply.pending:
            self.events.emit(BacklogProgress(0, reply.pending))

    async def _after_login(self, connection: ServerConnection) -> None:
        """Groups first (so messages to new groups have a home), then the outbox in
        order, then the read markers the server has not confirmed yet."""
        try:
            await self.refresh_groups()
        except NotConnectedError:
            return
        except RequestError as exc:
            log.warning("could not refresh the groups: %s", exc)
        self._spawn(self._outbox_pump(connection))
        transfers = self.transfers
        self._spawn(transfers.upload_pump(connection, self._file_uploaded, self._upload_refused))
        self._spawn(self.transfers.download_pump(connection))
        self._spawn(self._share_contacts(connection))
        self._spawn(self._presence_after_login(connection))
        markers = self.store.unconfirmed_read_markers()
        try:
            futures = [
                (conversation, up_to, self._send_read(connection, conversation, up_to))
                for conversation, up_to in markers
            ]
        except NotConnectedError:
            return
        for conversation, up_to, future in futures:
            try:
                await future
            except NotConnectedError:
                return
            except RequestError as exc:
                log.warning("read marker for %s refused: %s", conversation, exc)
                if exc.code == Code.TIMEOUT:
                    return
            await self.store.run(self.store.confirm_read_marker, conversation, up_to)

    async def _share_contacts(self, connection: ServerConnection) -> None:
        """Tell the server the contacts it may not know as ours yet (they may then add us
        to groups): those added while offline, or by an older version of the app. Each
        one the server records (or no longer knows: ``unknown_client``) is remembered, so
        the next login sends nothing for it; another error leaves it for the next login."""
        unshared = self.store.unshared_contacts()
        try:
            futures = [
                (
                    client_id,
                    connection.send_request(functools.partial(_add_contact_frame, client_id)),
                )
                for client_id in unshared
            ]
        except NotConnectedError:
            return
        shared: list[str] = []
        for client_id, future in futures:
            try:
                await future
            except RequestError as exc:
                if exc.code != Code.UNKNOWN_CLIENT or isinstance(exc, NotConnectedError):
                    continue
            shared.append(client_id)
        if shared:
            await self.store.run(self.store.mark_contacts_shared, shared)

    @staticmethod
    def _send_read(
        connection: ServerConnection, conversation: str, up_to: int
    ) -> asyncio.Future[protocol.ServerFrame]:
        is_group = conversation.startswith("G-")
        return connection.send_request(
            lambda rid: protocol.MarkRead(
                id=rid,
                up_to=up_to,
                peer=None if is_group else conversation,
                group=conversation if is_group else None,
            )
        )

    # --- sending ---

    async def send_message(
        self,
        conversation: str,
        is_group: bool,
        text: str,
        *,
        reply_to: int | None = None,
        forwarded_from: StoredMessage | None = None,
        mentions: Sequence[str] = (),
    ) -> StoredMessage:
        """Put a message in the on-disk outbox and send it when (or as soon as) online.

        ``reply_to`` is the local id of the message of the same conversation it answers
        (sent as its ``seq`` and author); ``forwarded_from`` the message it forwards (its
        author is named: "Forwarded from ...", or the original's own forwarder's claim).

        Returns it as stored, ``status="queued"``; a :class:`MessageSent` event follows
        when the server has stored it, or :class:`MessageFailed` when it refuses it.

        Raises:
            ValueError: blank or oversize text, or a conversation ID of the wrong kind.
        """
        if len(text.encode("utf-8")) > self.limits.max_text_bytes:
            raise ValueError(f"message text is longer than {self.limits.max_text_bytes} bytes")
        quote = None
        if reply_to is not None:
            quote = self._reply_target(conversation, reply_to)
        forwarded = None
        if forwarded_from is not None:
            forwarded = self._forward_origin(forwarded_from)
        queued = await self.store.run(
            functools.partial(self.store.queue_outgoing, mentions=mentions),
            conversation,
            is_group,
            text,
            reply_to=quote,
            forwarded_from=forwarded,
        )
        self._outbox_changed.set()
        if quote is not None:  # as stored, with the message it quotes
            stored = self.store.message(queued.local_id)
            assert stored is not None
            return stored
        return StoredMessage(
            local_id=queued.local_id,
            conversation=conversation,
            is_group=is_group,
            direction="out",
            sender=None,
            sender_name=None,
            text=text,
            ts=queued.ts,
            seq=None,
            message_id=None,
            key=queued.key,
            status="queued",
            forwarded_name=queued.forwarded_name,
            forwarded_sender=queued.forwarded_sender,
        )

    # --- files (issue 10; the transfers themselves are messenger_gui.transfers) ---

    async def send_files(
        self,
        conversation: str,
        is_group: bool,
        paths: Sequence[Path],
        caption: str = "",
        *,
        thumbnails: Sequence[str | None] | None = None,
    ) -> StoredMessage:
        """Send the files at ``paths`` in one message with an optional ``caption``.

        The files are copied into the profile's outbox (and hashed) before this returns,
        so the message survives a restart and the sources may move; the message is then
        queued like a text. When online (or after the next login) each file is uploaded,
        resuming where an earlier attempt stopped, then the message is sent:
        :class:`MessageSent` follows, or :class:`MessageFailed` when the server refuses a
        file for good (``file_too_large``, ``quota_exceeded``...). ``thumbnails`` gives a
        small base64 JPEG or PNG per file (or ``None``), shown to the recipients at once.

        Raises:
            ValueError: no files, more than ten, one larger than the server accepts, or an
                oversize caption.
            OSError: a file could not be read.
        """
        if not 1 <= len(paths) <= protocol.MAX_FILES_PER_MESSAGE:
            raise ValueError(f"a message carries 1 to {protocol.MAX_FILES_PER_MESSAGE} files")
        for path in paths:
            size = await asyncio.to_thread(os.path.getsize, path)
            if size > self.limits.max_file_bytes:
                raise ValueError(f"{Path(path).name} is larger than the server accepts")
        prepared = await self.transfers.prepare(paths, thumbnails)
        try:
            queued = await self.store.run(
                self.store.queue_outgoing_files, conversation, is_group, caption, prepared
            )
        except BaseException:
            self.transfers.remove_outbox_copies(
                [StoredFile(0, 0, f.name, f.size, f.mime, f.sha256, None, None, f.path,
                            "upload", None, conversation, "out") for f in prepared]
            )  # fmt: skip
            raise
        self.transfers.uploads_changed()
        stored = self.store.message(queued.local_id)
        assert stored is not None
        return stored

    async def download_file(self, local_id: int, position: int) -> bool:
        """Download a received file (the user clicked it): now when online, else after the
        next login; it resumes from what earlier attempts received. Progress and the
        result come as :mod:`messenger_gui.transfers` events. Returns False when the file
        is not waiting on the server."""
        return await self.transfers.download(local_id, position)

    async def cancel_download(self, local_id: int, position: int) -> bool:
        """Stop downloading a file; asking again resumes it. Returns False when it was
        not being downloaded."""
        return await self.transfers.cancel_download(local_id, position)

    def _file_uploaded(self, local_id: int) -> None:
        """A file of ``local_id`` is on the server: the outbox may send it now."""
        self._outbox_changed.set()

    def _upload_refused(self, local_id: int, error: UploadRefused) -> None:
        stored = self.store.message(local_id)
        if stored is None or stored.key is None:
            return
        item = OutgoingMessage(
            local_id, stored.conversation, stored.is_group, stored.text, stored.key, stored.ts,
            stored.status,
        )  # fmt: skip
        self._in_flight.add(stored.key)  # settled by _record_failure
        self._fail(item, RequestError(error.code, error.message))

    async def _upload_again(self, local_id: int) -> None:
        if await self.store.run(self.store.upload_again, local_id):
            self.transfers.uploads_changed()

    def _reply_target(self, conversation: str, local_id: int) -> protocol.ReplyTo:
        quoted = self.store.message(local_id)
        if quoted is None or quoted.conversation != conversation:
            raise ValueError("the quoted message is not in this conversation")
        if quoted.seq is None:
            raise ValueError("the quoted message is not sent yet")
        sender = self.identity.client_id if quoted.direction == "out" else quoted.sender
        assert sender is not None
        return protocol.ReplyTo(seq=quoted.seq, sender=sender)

    def _forward_origin(self, message: StoredMessage) -> protocol.Forwarded:
        """Who wrote ``message``, for "Forwarded from ...", named as this app shows them
        (the contact's name, else their display name); a forward of a forward names the
        original author."""
        if message.forwarded_name is not None:
            return protocol.Forwarded(name=message.forwarded_name, sender=message.forwarded_sender)
        if message.direction == "out":
            return protocol.Forwarded(
                name=self.identity.display_name[: protocol.MAX_DISPLAY_NAME_CHARS],
                sender=self.identity.client_id,
            )
        contact = self.store.contact(message.sender) if message.sender else None
        shown = contact.name if contact is not None else message.sender_name
        name = (shown or message.sender or "?").strip() or "?"
        name = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", name)
        return protocol.Forwarded(
            name=name[: protocol.MAX_DISPLAY_NAME_CHARS], sender=message.sender
        )

    # --- edits, deletions and reactions ---

    async def edit_message(self, local_id: int, text: str) -> StoredMessage:
        """Replace the text of our sent message ``local_id``: changed here at once (shown
        "edited"), sent through the on-disk outbox (also after a restart) with one key.
        If the server refuses it (``edit_expired`` after its edit window, ...), the old
        text comes back and :class:`~messenger_gui.events.ActionFailed` says why.

        Raises:
            ValueError: blank or oversize text; not ours, not sent yet, or deleted.
        """
        if len(text.encode("utf-8")) > self.limits.max_text_bytes:
            raise ValueError(f"message text is longer than {self.limits.max_text_bytes} bytes")
        stored = self.store.message(local_id)
        if stored is None or stored.direction != "out":
            raise ValueError("only one's own messages can be edited")
        entry = await self.store.run(self.store.queue_edit, local_id, text)
        return self._entry_queued(entry)

    def may_delete_for_everyone(self, message: StoredMessage) -> bool:
        """Whether we may delete ``message`` for everyone: ours, or, in a group we are an
        admin of, anyone's; sent, and not deleted already."""
        if message.seq is None or message.deleted is not None:
            return False
        if message.direction == "out":
            return True
        if not message.is_group:
            return False
        group = self.store.group(message.conversation)
        me = self.identity.client_id
        return (
            group is not None
            and not group.left
            and any(m.client_id == me and m.admin for m in group.members)
        )

    async def delete_for_everyone(self, local_id: int) -> StoredMessage:
        """Delete message ``local_id`` for everyone (see :meth:`may_delete_for_everyone`):
        the placeholder shows here at once, the ``delete`` goes through the outbox.

        Raises:
            ValueError: not allowed, not sent yet, or deleted already.
        """
        stored = self.store.message(local_id)
        if stored is None or not self.may_delete_for_everyone(stored):
            raise ValueError("this message cannot be deleted for everyone")
        entry = await self.store.run(self.store.queue_delete, local_id)
        return self._entry_queued(entry)

    async def delete_for_me(self, local_id: int) -> bool:
        """Delete message ``local_id`` here only (nothing goes to the server): its text is
        forgotten and the placeholder shows. An unsent message of ours is removed from the
        outbox instead (:meth:`delete_message`). Returns False when there is nothing to
        delete."""
        stored = self.store.message(local_id)
        if stored is None:
            return False
        if stored.direction == "out" and stored.seq is None:
            return await self.delete_message(local_id)
        conversation = await self.store.run(self.store.delete_for_me, local_id)
        if conversation is None:
            return False
        self.events.emit(MessagesUpdated(conversation, (local_id,)))
        return True

    async def react(self, local_id: int, emoji: str, on: bool = True) -> StoredMessage:
        """Make ``emoji`` our reaction to message ``local_id`` (replacing ours, if any), or
        with ``on=False`` take it back; shown at once, sent through the outbox.

        Raises:
            ValueError: not one emoji; the message is not sent yet, or deleted.
        """
        entry = await self.store.run(
            self.store.queue_react,
            local_id,
            emoji,
            on,
            me=self.identity.client_id,
            name=self.identity.display_name,
        )
        return self._entry_queued(entry)

    def _entry_queued(self, entry: OutgoingEntry) -> StoredMessage:
        self._outbox_changed.set()
        self.events.emit(MessagesUpdated(entry.conversation, (entry.target,)))
        stored = self.store.message(entry.target)
        assert stored is not None
        return stored

    async def _outbox_pump(self, connection: ServerConnection) -> None:
        """Send every queued message, oldest first, with its own key; then wait for more.
        Replies are handled by :meth:`_on_send_done` as they come."""
        sent = 0
        while not connection.closed:
            self._outbox_changed.clear()
            now = asyncio.get_running_loop().time()
            for item, files in self._outbox_with_files():
                if item.key in self._in_flight:
                    continue
                held = self._held.get(item.conversation)
                if held is not None and held[0] > now:
                    continue  # later, and the rest of its conversation too (order)
                if any(f.file_id is None for f in files):
                    continue  # sent once its files are uploaded (Transfers.upload_pump)
                if len(self._in_flight) >= MAX_SENDS_IN_FLIGHT:
                    while len(self._in_flight) >= MAX_SENDS_IN_FLIGHT and not connection.closed:
                        self._send_window.clear()
                        await self._send_window.wait()
                    if not self._still_to_send(item):
                        continue  # deleted or failed while we waited
                mentions = self.store.outgoing_mentions(item.local_id) if item.is_group else []
                try:
                    future = connection.send_request(
                        functools.partial(_send_frame, item, mentions, files)
                    )
                except NotConnectedError:
                    return
                except ValueError as exc:  # not sendable at all (e.g. text of spaces)
                    self._fail(item, RequestError(Code.INVALID_FIELD, str(exc)))
                    continue
                self._in_flight.add(item.key)
                future.add_done_callback(functools.partial(self._on_send_done, item))
                sent += 1
                if sent % 64 == 0:
                    await connection.drain()
            for entry in self.store.outbox_entries():
                if entry.key in self._in_flight:
                    continue
                try:
                    future = connection.send_request(functools.partial(_entry_frame, entry))
                except NotConnectedError:
                    return
                except ValueError as exc:  # not sendable at all
                    self._refuse_entry(entry, RequestError(Code.INVALID_FIELD, str(exc)))
                    continue
                self._in_flight.add(entry.key)
                future.add_done_callback(functools.partial(self._on_entry_done, entry))
            await connection.drain()
            await self._outbox_changed.wait()

    def _outbox_with_files(self) -> Iterator[tuple[OutgoingMessage, list[StoredFile]]]:
        """The outbox with the files of each message (issue 10), a page at a time."""
        page: list[OutgoingMessage] = []
        for item in self._outbox_items():
            page.append(item)
            if len(page) == MAX_SENDS_IN_FLIGHT:
                files = self.store.files_of(i.local_id for i in page)
                yield from ((i, files.get(i.local_id, [])) for i in page)
                page = []
        files = self.store.files_of(i.local_id for i in page)
        yield from ((i, files.get(i.local_id, [])) for i in page)

    def _outbox_items(self) -> Iterator[OutgoingMessage]:
        """The outbox, oldest first, read a page at a time (it may hold thousands)."""
        after = 0
        while True:
            page = self.store.outbox(after_local_id=after, limit=MAX_SENDS_IN_FLIGHT)
            yield from page
            if len(page) < MAX_SENDS_IN_FLIGHT:
                return
            after = page[-1].local_id

    def _on_send_done(
        self, item: OutgoingMessage, future: asyncio.Future[protocol.ServerFrame]
    ) -> None:
        if future.cancelled():
            self._settled(item.key)
            return
        error = future.exception()
        if error is None:
            self._held.pop(item.conversation, None)
            # Recorded with the chunk it came in (receive_messages), which settles it.
            if not isinstance(future.result(), protocol.Sent):
                log.error("unexpected reply to send: %r", future.result())
                self._settled(item.key)
            return
        if not isinstance(error, RequestError) or isinstance(error, NotConnectedError):
            self._settled(item.key)
            return  # sent again, same key, after the next login
        if error.code == Code.TIMEOUT:
            self._settled(item.key)
            return  # the connection is being closed: same as above
        if error.code == Code.NOT_FOUND and self.store.message_files(item.local_id):
            # Its files expired on the server before the message went out: upload again.
            self._settled(item.key)
            self._background(self._upload_again(item.local_id))
            return
        if error.code in RETRYABLE_SEND_CODES:
            delay = self._hold(item.conversation)
            self._settled(item.key)
            log.info(
                "send of %d refused for now (%s); retrying in %.1f s",
                item.local_id,
                error.code,
                delay,
            )
            return
        self._fail(item, error)

    def _on_entry_done(
        self, entry: OutgoingEntry, future: asyncio.Future[protocol.ServerFrame]
    ) -> None:
        """Like :meth:`_on_send_done`, for an edit, deletion or reaction."""
        if future.cancelled():
            self._settled(entry.key)
            return
        error = future.exception()
        if error is None:
            return  # recorded with its chunk (receive_messages), which settles it
        if (
            not isinstance(error, RequestError)
            or isinstance(error, NotConnectedError)
            or error.code == Code.TIMEOUT
        ):
            self._settled(entry.key)
            return  # sent again, same key, after the next login
        if error.code in RETRYABLE_SEND_CODES:
            self._settled(entry.key)
            asyncio.get_running_loop().call_later(SEND_RETRY_DELAY, self._outbox_changed.set)
            return
        self._refuse_entry(entry, error)

    def _refuse_entry(self, entry: OutgoingEntry, error: RequestError) -> None:
        log.warning("%s of message %d refused by the server: %s", entry.kind, entry.target, error)
        self._background(self._record_refusal(entry, error))

    async def _record_refusal(self, entry: OutgoingEntry, error: RequestError) -> None:
        try:
            refused = await self.store.run(self.store.entry_refused, entry.key, error.code)
        except Exception:
            log.exception("could not record the refusal of %s", entry.key)
            return
        finally:
            self._settled(entry.key)
        if refused is None:
            return
        if refused.restored:
            self.events.emit(MessagesUpdated(refused.conversation, (refused.local_id,)))
        if error.code != Code.MESSAGE_DELETED or entry.kind != "delete":
            self.events.emit(
                ActionFailed(
                    refused.conversation, refused.local_id, entry.kind, error.code, error.message
                )
            )
    def _hold(self, conversation: str) -> float:
        """The server refused a send to ``conversation`` for now (its recipient's or our
        quota, its disk, its rate): send nothing more to it for a while, then try again
        (the outbox keeps the order). The delay doubles with each refusal in a row
        (refusals of messages sent together count once), from ``send_retry_base`` up to
        ``send_retry_cap``, half of it random so that many clients do not come back
        together; a message accepted ends it. Returns the seconds left to wait."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        until, refusals = self._held.get(conversation, (0.0, 0))
        if until > now:
            return until - now  # the same burst: already held
        ceiling = min(self._send_retry_cap, self._send_retry_base * 2.0 ** min(refusals, 32))
        delay = ceiling / 2 + self._random.uniform(0, ceiling / 2)
        self._held[conversation] = (now + delay, refusals + 1)
        loop.call_later(delay, self._outbox_changed.set)
        return delay

    def _settled(self, key: str) -> None:
        """The send of ``key`` is over (stored as sent, refused, or lost): it no longer
        counts against the window and may be sent again if it is still queued."""
        self._in_flight.discard(key)
        self._send_window.set()

    def _still_to_send(self, item: OutgoingMessage) -> bool:
        stored = self.store.message(item.local_id)
        return stored is not None and stored.status == "queued" and stored.failure is None

    def _fail(self, item: OutgoingMessage, error: RequestError) -> None:
        log.warning("message %d refused by the server: %s", item.local_id, error)
        self._background(self._record_failure(item, error))

    async def _record_failure(self, item: OutgoingMessage, error: RequestError) -> None:
        try:
            marked = await self.store.run(
                self.store.mark_failed, item.local_id, error.code, error.message
            )
        except Exception:
            log.exception("could not record message %d as failed", item.local_id)
            return
        finally:
            self._settled(item.key)  # not before: the outbox would still list it
        if marked:
            self.events.emit(
                MessageFailed(item.local_id, error.code, error.message, item.conversation)
            )

    async def retry_message(self, local_id: int) -> bool:
        """Send a failed message again (the user chose "Retry"), with its original key, so
        the server stores it at most once. It is queued again now and sent when online;
        :class:`~messenger_gui.events.MessageRetried` is emitted at once, then
        :class:`MessageSent` or, if refused again, :class:`MessageFailed`.

        Returns False (and emits nothing) when ``local_id`` is not a failed message.
        """
        if not await self.store.run(self.store.retry_failed, local_id):
            return False
        log.info("message %d will be sent again", local_id)
        stored = self.store.message(local_id)
        assert stored is not None
        self._outbox_changed.set()
        self.events.emit(MessageRetried(stored))
        return True

    async def delete_message(self, local_id: int) -> bool:
        """Delete an outgoing message the server has not stored: a failed one, or one still
        queued that is not being sent right now. Emits
        :class:`~messenger_gui.events.MessageDeleted`.

        Returns False when it cannot be deleted: unknown, incoming, already sent (the
        recipients have it), or in flight (its ``sent`` reply may come any moment).
        """
        stored = self.store.message(local_id)
        if stored is None or stored.key is None or stored.key in self._in_flight:
            return False
        files = self.store.message_files(local_id)
        if files:
            await self.transfers.cancel_upload(local_id, self._connection)
        if not await self.store.run(self.store.delete_outgoing, local_id):
            return False
        self.transfers.remove_outbox_copies(files)
        log.info("unsent message %d deleted", local_id)
        self.events.emit(MessageDeleted(stored.conversation, local_id))
        return True

    # --- receiving ---

    def _on_frames(
        self, connection: ServerConnection, frames: Sequence[protocol.ServerFrame]
    ) -> None:
        for frame in frames:
            if isinstance(frame, protocol.LoggedIn):
                self._on_logged_in(connection, frame)
            elif isinstance(frame, protocol.UploadProgress):
                self.transfers.on_upload_progress(frame)
        if self._connection is not connection or self._receiving is None:
            return  # not logged in (yet): only replies, already handled
        for frame in frames:
            if isinstance(frame, protocol.PeerTyping):
                self._peer_typing(frame)
            elif isinstance(frame, protocol.Presence):
                self._presence_event(frame)
        if any(isinstance(frame, _STORED_FRAMES) for frame in frames):
            self._receiving.put_nowait(frames)
            self._chunks_queued += 1

    async def _receive_loop(
        self,
        connection: ServerConnection,
        queue: asyncio.Queue[Sequence[protocol.ServerFrame] | None],
    ) -> None:
        """Store the chunks read from ``connection`` in order, each (with whatever else
        is waiting by then) in one transaction on the writer thread, and acknowledge them.

        The socket is read meanwhile, so the next chunk arrives while this one commits.
        After a failure to store, nothing more is acknowledged on this connection (an
        acknowledgement would cover the earlier messages of its conversation): it is
        closed, and what it brought comes again after the next login.
        """
        while True:
            chunk = await queue.get()
            if chunk is None:
                return
            frames = list(chunk)
            merged = 1
            ending = False
            while not queue.empty() and merged < MAX_MERGED_CHUNKS:
                more = queue.get_nowait()
                if more is None:
                    ending = True
                    break
                frames += more
                merged += 1
            try:
                acks = await self.receive_messages(frames)
            except Exception:
                log.exception("storing what the server sent failed: reconnecting")
                connection.abort("the local history could not be written")
                self._chunks_done += merged
                self._chunk_stored.set()
                while (rest := await queue.get()) is not None:
                    self._chunks_done += 1 if rest else 0
                return
            connection.send_ack(acks)
            self._chunks_done += merged
            self._chunk_stored.set()
            if ending:
                return

    async def _index_for_search(self) -> None:
        """Put the messages a backlog brought into the search index, a batch at a time
        on the writer thread (live messages are indexed as they are stored)."""
        try:
            while await self.store.run(self.store.index_pending, SEARCH_INDEX_BATCH):
                pass
        except Exception:
            log.exception("indexing the history for search failed; it is retried after login")

    async def receive_messages(self, frames: Sequence[protocol.ServerFrame]) -> list[int]:
        """Store what a chunk of server frames brings and report it; returns the ids to
        acknowledge.

        Incoming messages, ``receipts`` events, ``group_update``s and the ``sent`` replies
        to our messages are stored in **one** transaction on the writer thread
        (:meth:`~messenger_gui.storage.ClientStore.save_chunk`) before this returns, so
        the caller may acknowledge right after. Acknowledging a message acknowledges the
        earlier ones of its conversation, so the ids are the last ``message_id`` of each
        conversation in the chunk (new or redelivered) and every ``group_update``
        ``event_id``. The events then name what changed (the stored messages, the
        ``local_ids`` whose ticks moved), so nothing is read back; redelivered messages are
        not reported again. ``synced`` ends the backlog. Other replies and unknown frames
        are ignored here.
        """
        me = self.identity.client_id
        messages = [f for f in frames if isinstance(f, protocol.Message)]
        entries = [f for f in frames if isinstance(f, _ENTRY_FRAMES)]
        last: dict[str, tuple[int, int]] = {}
        for logged in (*messages, *entries):
            conversation = logged.group or logged.sender
            if conversation not in last or last[conversation][0] < logged.seq:
                last[conversation] = (logged.seq, logged.message_id)
        acks = [message_id for _, message_id in last.values()]
        updates = [f for f in frames if isinstance(f, protocol.GroupUpdate)]
        acks += [update.event_id for update in updates]
        lines = self._system_lines(updates)  # compared with our copy before it changes
        chunk = Chunk(
            messages=messages,
            receipts=[f for f in frames if isinstance(f, protocol.Receipts)],
            groups=[
                (u.group, not any(m.client_id == me for m in u.group.members)) for u in updates
            ],
            sent=[f for f in frames if isinstance(f, protocol.Sent)],
            entries=entries,
        )
        # A backlog's messages join the search index once it is over (_index_for_search):
        # the catch-up stores them at twice the speed.
        live = not self._syncing
        saved = (
            await self.store.run(self.store.save_chunk, chunk, me=me, index=live) if chunk else None
        )
        for reply in chunk.sent:
            self._settled(reply.key)
        if saved is not None and any(m.files for m in messages):
            with_files = self.store.files_of(m.local_id for m in saved.received)
            wanted = self.transfers.wanted_automatically(
                [f for files in with_files.values() for f in files]
            )
            self._background(self.transfers.want(wanted))

        events: list[Event] = []
        synced_at = next((n for n, f in enumerate(frames) if isinstance(f, protocol.Synced)), None)
        for message in messages:
            if message.sender != me:
                self._typing_in.message_received(message.group or message.sender, message.sender)
        for conversation in dict.fromkeys(m.group or m.sender for m in messages):
            if conversation in self._typing_shown:
                self._report_typing(conversation)
        if saved is not None and saved.received:
            fresh = saved.received
            if not self._syncing:
                backlog: set[int | None] = set()
            elif synced_at is None:
                backlog = {m.message_id for m in fresh}
            else:
                backlog = {
                    f.message_id for f in frames[:synced_at] if isinstance(f, protocol.Message)
                }
            mentioned = {m.message_id for m in messages if m.mentions and me in m.mentions}
            mentioning_me = frozenset(m.local_id for m in fresh if m.message_id in mentioned)
            for in_backlog in (True, False):
                part = tuple(m for m in fresh if (m.message_id in backlog) == in_backlog)
                if part:
                    events.append(
                        MessagesReceived(part, backlog=in_backlog, mentioning_me=mentioning_me)
                    )
            wake = self.store.archived_to_wake(
                dict.fromkeys(m.conversation for m in fresh if m.direction == "in")
            )
            if wake:  # a new message brings an archived chat back, unless it is muted
                await self.store.run(self.store.unarchive, wake)
        if saved is not None:
            events.extend(MessageSent(message) for message in saved.sent)
            events.extend(_status_events(saved.changes))
            events.extend(_updated_events(saved.updated))
        if lines:
            shown = await self.store.run(self.store.add_system_lines, lines)
            if shown:
                events.append(SystemLinesAdded(tuple(shown)))
        if updates:
            groups = tuple(dict.fromkeys(u.group.group_id for u in updates))
            events.append(ConversationsChanged(groups))
            if not self._syncing:  # after login, presences are asked anyway
                self._refresh_presence_soon()
        if self._syncing and self._backlog_total:
            count = len(messages) + len(entries) + len(updates)
            if synced_at is not None:
                count = self._backlog_total  # ``synced``: the backlog is over, whatever its size
            received = min(self._backlog_total, self._backlog_received + count)
            if received != self._backlog_received:
                self._backlog_received = received
                events.append(BacklogProgress(received, self._backlog_total))
        if synced_at is not None:
            self._syncing = False
            self._texts_before_list.clear()
            log.info("backlog received (%d announced)", self._backlog_total)
            if self._indexer is None or self._indexer.done():
                self._indexer = asyncio.get_running_loop().create_task(self._index_for_search())
        for event in events:
            self.events.emit(event)
        return acks

    # --- typing and presence (never stored) ---

    def draft_edited(self, conversation: str, is_group: bool) -> None:
        """The user changed the draft of ``conversation`` (a keystroke, not blank): send
        ``typing`` on at once and again every few seconds while it goes on
        (:class:`~messenger_server.session.TypingNotices`), off after a pause. Nothing
        is sent while offline."""
        if conversation == self.identity.client_id:
            return  # the conversation with oneself: nobody to tell
        loop = asyncio.get_running_loop()
        self._typing_drafts[conversation] = is_group
        if self._typing_out.edited(conversation, loop.time()):
            self._send_typing(conversation, is_group, on=True)
        if self._typing_check is None:
            self._typing_check = loop.call_later(TYPING_IDLE_CHECK, self._typing_idle)

    def draft_stopped(self, conversation: str, is_group: bool) -> None:
        """The user sent the draft, emptied it or left the chat: ``typing`` off, when an
        on was sent."""
        self._typing_drafts.pop(conversation, None)
        if self._typing_out.stopped(conversation) is False:
            self._send_typing(conversation, is_group, on=False)

    def _typing_idle(self) -> None:
        self._typing_check = None
        loop = asyncio.get_running_loop()
        for conversation in self._typing_out.idle(loop.time()):
            is_group = self._typing_drafts.pop(conversation, conversation.startswith("G-"))
            self._send_typing(conversation, is_group, on=False)
        if self._typing_drafts:
            self._typing_check = loop.call_later(TYPING_IDLE_CHECK, self._typing_idle)

    def _send_typing(self, conversation: str, is_group: bool, *, on: bool) -> None:
        connection = self._connection
        if connection is None or connection.closed:
            return
        if is_group:
            connection.send_typing(group=conversation, on=on)
        else:
            connection.send_typing(to=conversation, on=on)

    def typing_in(self, conversation: str, now: float | None = None) -> list[str]:
        """Who is typing in ``conversation`` (client IDs, in the order they started), at
        ``now`` on the loop's clock (default: now)."""
        when = asyncio.get_running_loop().time() if now is None else now
        return self._typing_in.typing_in(conversation, when)

    def _peer_typing(self, event: protocol.PeerTyping) -> None:
        if event.sender == self.identity.client_id:
            return
        loop = asyncio.get_running_loop()
        conversation = self._typing_in.received(event, loop.time())
        self._report_typing(conversation)
        if event.on:  # look again when it runs out, unless renewed
            loop.call_later(
                protocol.TYPING_EXPIRY_SECONDS + 0.05, self._report_typing, conversation
            )

    def _report_typing(self, conversation: str) -> None:
        senders = tuple(self.typing_in(conversation))
        if senders == self._typing_shown.get(conversation, ()):
            return
        if senders:
            self._typing_shown[conversation] = senders
        else:
            self._typing_shown.pop(conversation, None)
        self.events.emit(TypingChanged(conversation, senders))

    def presence_of(self, client_id: str) -> protocol.PresenceInfo | None:
        """What we know of ``client_id``'s presence: ``None`` when it is not shown to us
        (a stranger, someone who shows it to nobody, or we show ours to nobody)."""
        return self._presence.get(client_id)

    async def set_privacy(self, presence: protocol.Visibility) -> None:
        """Who sees our presence: ``"chats"`` (everyone who shares a chat with us) or
        ``"nobody"`` (who then also see nobody's). Remembered in :attr:`privacy` and
        sent now when online, else after the next login; then the presences we may see
        are asked again. Emits :class:`PresenceChanged`.

        Raises:
            RequestError: the server refused it (the setting is still sent next login).
        """
        self.privacy = presence
        connection = self._connection
        if connection is None or connection.closed:
            return
        try:
            await self._send_privacy(connection)
        except NotConnectedError:
            return

    async def _presence_after_login(self, connection: ServerConnection) -> None:
        try:
            await self._send_privacy(connection)
        except RequestError as exc:
            log.warning("presence after login failed: %s", exc)

    async def _send_privacy(self, connection: ServerConnection) -> None:
        privacy = self.privacy
        if privacy is not None:
            await connection.request(
                lambda rid: protocol.SetPrivacy(id=rid, presence=privacy), protocol.Privacy
            )
        await self.refresh_presence()

    async def refresh_presence(self) -> None:
        """Ask the presence of everyone we show (contacts, members of our groups) and
        report what changed (:class:`PresenceChanged`). Done after each login.

        Raises:
            NotConnectedError: offline.
        """
        connection = self._online()
        me = self.identity.client_id
        wanted = {contact.client_id for contact in self.store.contacts()}
        for group in self.store.groups(include_left=False):
            wanted.update(m.client_id for m in self.store.group_members(group.group_id))
        wanted.discard(me)
        ids = sorted(wanted)
        found: dict[str, protocol.PresenceInfo] = {}
        step = protocol.MAX_PRESENCE_IDS
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            reply = await connection.request(
                functools.partial(_get_presence_frame, part), protocol.Presences
            )
            found.update((p.client_id, p) for p in reply.presences)
        old, self._presence = self._presence, found
        changed = tuple(
            client_id
            for client_id in sorted(set(old) | set(found))
            if old.get(client_id) != found.get(client_id)
        )
        if changed:
            self.events.emit(PresenceChanged(changed))

    def _refresh_presence_soon(self) -> None:
        """New people to show (a contact, a group's members): ask their presence, in the
        background; a failure waits for the next login."""
        if self._connection is None or self.privacy != "chats":
            return

        async def refresh() -> None:
            with contextlib.suppress(RequestError):
                await self.refresh_presence()

        self._spawn(refresh())

    def _presence_event(self, event: protocol.Presence) -> None:
        info = protocol.PresenceInfo(event.client_id, event.online, event.last_seen)
        if self._presence.get(event.client_id) != info:
            self._presence[event.client_id] = info
            self.events.emit(PresenceChanged((event.client_id,)))

    def _forget_live_state(self) -> None:
        """The connection ended: nobody is typing any more, presences are unknown until
        the next login asks again, and the next keystroke announces typing afresh."""
        self._typing_out = TypingNotices()
        self._typing_drafts.clear()
        if self._typing_check is not None:
            self._typing_check.cancel()
            self._typing_check = None
        self._typing_in = TypingIndicators()
        shown, self._typing_shown = self._typing_shown, {}
        for conversation in shown:
            self.events.emit(TypingChanged(conversation, ()))
        presence, self._presence = self._presence, {}
        if presence:
            self.events.emit(PresenceChanged(tuple(sorted(presence))))

    # --- group settings ---

    def _system_lines(self, updates: Sequence[protocol.GroupUpdate]) -> list[tuple[str, int, str]]:
        """The system lines the chunk's group changes make: ``(group_id, event_id, text)``.
        A rename or a new description is found by comparing with our copy (each update
        carries the group's state when it was sent, protocol 12.9); promotions, demotions
        and the deletion say so themselves. Membership changes make none (as before)."""
        lines: list[tuple[str, int, str]] = []
        known: dict[str, tuple[str, str, dict[str, str]]] = {}
        for update in updates:
            info = update.group
            group_id = info.group_id
            if group_id not in known:
                stored = self.store.group(group_id)
                if stored is None:
                    known[group_id] = (info.name, _description(info), {})
                else:
                    names = {m.client_id: m.display_name for m in stored.members}
                    before = self._texts_before_list.get(group_id)
                    if before is None:
                        before = (stored.name, stored.description)
                    known[group_id] = (before[0], before[1], names)
            name, description, names = known[group_id]
            names = {**names, **{m.client_id: m.display_name for m in info.members}}
            actor = names.get(update.actor, update.actor)
            subject = names.get(update.subject or "", update.subject or "")
            by_me = update.actor == self.identity.client_id
            if update.change == "updated":
                if info.name != name:
                    text = system_line("renamed", actor, value=info.name, by_me=by_me)
                    lines.append((group_id, update.event_id, text))
                elif _description(info) != description:
                    text = system_line("described", actor, by_me=by_me)
                    lines.append((group_id, update.event_id, text))
            elif update.change in ("promoted", "demoted", "deleted"):
                to_me = update.subject == self.identity.client_id
                text = system_line(update.change, actor, subject, by_me=by_me, to_me=to_me)
                lines.append((group_id, update.event_id, text))
            known[group_id] = (info.name, _description(info), names)
        for group_id, (name, description, _) in known.items():
            if group_id in self._texts_before_list:  # the next chunk compares with this
                self._texts_before_list[group_id] = (name, description)
        return lines

    async def update_group(
        self, group_id: str, *, name: str | None = None, description: str | None = None
    ) -> protocol.GroupInfo:
        """Rename the group and/or change its description (``""`` removes it); admins
        only. Every member, us included, gets the change as a ``group_update``, which
        stores it and adds the system line; returns the new state meanwhile.

        Raises:
            RequestError: ``not_admin``, ``invalid_field``, ``name_too_long``, ...
            NotConnectedError: offline.
        """
        reply = await self._online().request(
            lambda rid: protocol.UpdateGroup(
                id=rid, group=group_id, name=name, description=description
            ),
            protocol.GroupReply,
        )
        return reply.group

    async def set_admin(self, group_id: str, client_id: str, admin: bool) -> protocol.GroupInfo:
        """Make ``client_id`` an admin of the group or not; admins only. As
        :meth:`update_group`, the ``group_update`` that follows stores it.

        Raises:
            RequestError: ``not_admin``, ``not_a_member``, ``last_admin``.
            NotConnectedError: offline.
        """
        reply = await self._online().request(
            lambda rid: protocol.SetAdmin(id=rid, group=group_id, client_id=client_id, admin=admin),
            protocol.GroupReply,
        )
        return reply.group

    async def delete_group(self, group_id: str) -> None:
        """Delete the group for everyone (admins only); its history stays here. The
        ``group_update`` ``deleted`` that follows marks it ended for every member.

        Raises:
            RequestError: ``not_admin``, ``not_a_member``, ``unknown_group``.
            NotConnectedError: offline.
        """
        await self._online().request(
            lambda rid: protocol.DeleteGroup(id=rid, group=group_id), protocol.Ok
        )

    # --- requests ---

    async def confirm_read(self, conversation: str, is_group: bool, up_to_seq: int) -> None:
        """The user has seen ``conversation`` up to ``up_to_seq``: record it and tell the
        server when online (else after the next login). Never raises when offline.

        Raises:
            RequestError: the server refused the ``read`` (e.g. ``not_a_member``); the
                marker is then not sent again.
        """
        moved = await self.store.run(self.store.set_read_marker, conversation, up_to_seq)
        pending = dict(self.store.unconfirmed_read_markers())
        if not moved and conversation not in pending:
            return
        up_to = pending.get(conversation, up_to_seq)
        connection = self._connection
        if connection is None or connection.closed:
            return
        try:
            future = connection.send_request(
                lambda rid: protocol.MarkRead(
                    id=rid,
                    up_to=up_to,
                    peer=None if is_group else conversation,
                    group=conversation if is_group else None,
                )
            )
            await future
        except NotConnectedError:
            return
        except RequestError as exc:
            if exc.code in (Code.TIMEOUT, Code.RATE_LIMITED):
                return
            await self.store.run(self.store.confirm_read_marker, conversation, up_to)
            raise
        await self.store.run(self.store.confirm_read_marker, conversation, up_to)

    async def ping(self) -> None:
        """One round trip to the server (``ping``/``pong``). When it returns, every frame the
        server sent before its ``pong`` has been handled: stored, acknowledged and reported.
        Tests and tools use it as a barrier ("nothing more has arrived"), instead of sleeping.

        Raises:
            NotConnectedError: offline, or the connection broke before the ``pong``.
            RequestError: ``timeout`` (the connection is then closed).
        """
        await self._online().request(lambda rid: protocol.Ping(id=rid), protocol.Pong)
        # The pong's chunk was queued before this resumed: wait until it is stored.
        target = self._chunks_queued
        while self._chunks_done < target and self._receiver is not None:
            self._chunk_stored.clear()
            await self._chunk_stored.wait()
        writes = list(self._store_tasks)  # refusals of our sends being recorded
        if writes:
            await asyncio.wait(writes)

    async def lookup(self, client_id: str) -> Contact:
        """Whether ``client_id`` exists and its display name; stores nothing.

        Raises:
            ValueError: not a client ID, even after :func:`normalize_client_id`.
            RequestError: ``unknown_client`` (no such ID, or disabled).
            NotConnectedError: offline.
        """
        client_id = normalize_client_id(client_id)
        reply = await self._online().request(
            lambda rid: protocol.Lookup(id=rid, client_id=client_id), protocol.Contact
        )
        return Contact(reply.client_id, reply.display_name)

    async def add_contact(self, client_id: str) -> Contact:
        """Look ``client_id`` up and store it as a contact (refreshing its name when known);
        the server records it too, so that the contact may add us to groups.

        Raises:
            ValueError: one's own ID, or not a client ID.
            RequestError: ``unknown_client``.
            NotConnectedError: offline.
        """
        client_id = normalize_client_id(client_id)
        if client_id == self.identity.client_id:
            raise ValueError("that is your own ID")
        reply = await self._online().request(
            lambda rid: protocol.AddContact(id=rid, client_id=client_id), protocol.Contact
        )
        contact = await self.store.run(
            self.store.add_contact, reply.client_id, reply.display_name, shared=True
        )
        await self.store.run(self.store.unblock, contact.client_id)  # wanted after all
        self.events.emit(ConversationsChanged((contact.client_id,)))
        self._refresh_presence_soon()
        return contact

    async def block(self, client_id: str) -> None:
        """The user blocked ``client_id`` (a stranger's chat: "Block"). Local only (the
        protocol has no blocking): their messages are still received, stored and
        acknowledged, but their chat leaves the list and nothing notifies, until they
        are added as a contact (:meth:`add_contact` unblocks). Emits
        :class:`ConversationsChanged`."""
        if await self.store.run(self.store.block, client_id):
            log.info("%s blocked", client_id)
        self.events.emit(ConversationsChanged((client_id,)))

    async def create_group(self, name: str, member_ids: Sequence[str]) -> StoredGroup:
        """Create a group with us as admin and ``member_ids``; it is stored on return.

        Raises:
            RequestError: ``name_too_long``, ``group_full``, ``unknown_client``, ...
            NotConnectedError: offline.
        """
        members = list(member_ids)
        reply = await self._online().request(
            lambda rid: protocol.CreateGroup(id=rid, name=name, members=members),
            protocol.GroupReply,
        )
        return await self._store_group(reply.group)

    async def add_member(self, group_id: str, client_id: str) -> StoredGroup:
        """Add ``client_id`` to the group (admins only); the new state is stored on return.

        Raises:
            RequestError: ``not_admin``, ``already_a_member``, ``unknown_client``, ...
            NotConnectedError: offline.
        """
        reply = await self._online().request(
            lambda rid: protocol.AddMember(id=rid, group=group_id, client_id=client_id),
            protocol.GroupReply,
        )
        return await self._store_group(reply.group)

    async def remove_member(self, group_id: str, client_id: str) -> StoredGroup:
        """Remove ``client_id`` from the group (admins, or oneself); stored on return.

        Raises:
            RequestError: ``not_admin``, ``not_a_member``, ``unknown_group``.
            NotConnectedError: offline.
        """
        reply = await self._online().request(
            lambda rid: protocol.RemoveMember(id=rid, group=group_id, client_id=client_id),
            protocol.GroupReply,
        )
        return await self._store_group(reply.group)

    async def leave_group(self, group_id: str) -> None:
        """Leave the group; it is marked left on return (its history stays).

        Raises:
            RequestError: ``unknown_group``, ``not_a_member``.
            NotConnectedError: offline.
        """
        await self._online().request(
            lambda rid: protocol.LeaveGroup(id=rid, group=group_id), protocol.Ok
        )
        await self.store.run(self.store.mark_group_left, group_id)
        self.events.emit(ConversationsChanged((group_id,)))

    async def refresh_groups(self) -> list[StoredGroup]:
        """Fetch every group we are in and store them (groups missing from the answer are
        marked left). Done after each login too. Returns the stored groups.

        Raises:
            NotConnectedError: offline.
        """
        connection = self._online()
        found: list[protocol.GroupInfo] = []
        after: str | None = None
        while True:  # the server sends a page at a time
            reply = await connection.request(
                functools.partial(_list_groups_frame, after), protocol.Groups
            )
            found += reply.groups
            if reply.next is None:
                break
            after = reply.next
        if self._syncing:
            # The backlog's group updates compare with the names stored before this list
            # (a rename listed first would otherwise make no "renamed the group" line).
            for info in found:
                stored = self.store.group(info.group_id)
                if (
                    stored is not None
                    and info.group_id not in self._texts_before_list
                    and (stored.name, stored.description) != (info.name, _description(info))
                ):
                    self._texts_before_list[info.group_id] = (stored.name, stored.description)
        await self.store.run(self.store.save_client_groups, found, complete=True)
        changes = await self.store.run(
            self.store.update_group_statuses,
            [g.group_id for g in found],
            me=self.identity.client_id,
        )
        for event in _status_events(changes):
            self.events.emit(event)
        groups = self.store.groups()
        if groups:
            self.events.emit(ConversationsChanged(tuple(g.group_id for g in groups)))
        return groups

    async def _store_group(self, group: protocol.GroupInfo) -> StoredGroup:
        me = self.identity.client_id
        member = any(m.client_id == me for m in group.members)
        await self.store.run(self.store.save_group, group, left=not member)
        changes = await self.store.run(self.store.update_group_statuses, [group.group_id], me=me)
        for event in _status_events(changes):
            self.events.emit(event)
        self.events.emit(ConversationsChanged((group.group_id,)))
        self._refresh_presence_soon()
        stored = self.store.group(group.group_id)
        assert stored is not None
        return stored


def _updated_events(updated: Sequence[tuple[str, int]]) -> list[MessagesUpdated]:
    """One :class:`MessagesUpdated` per conversation, naming its messages in order."""
    by_conversation: dict[str, list[int]] = {}
    for conversation, local_id in updated:
        by_conversation.setdefault(conversation, []).append(local_id)
    return [MessagesUpdated(c, tuple(ids)) for c, ids in by_conversation.items()]


def _status_events(changes: Sequence[StatusChange]) -> list[MessageStatusChanged]:
    return [MessageStatusChanged(c.conversation, c.local_ids, c.status) for c in changes]


def _description(group: protocol.GroupInfo) -> str:
    return group.description if isinstance(group.description, str) else ""


def _list_groups_frame(after: str | None, request_id: int) -> protocol.ListGroups:
    return protocol.ListGroups(id=request_id, after=after)


def _get_presence_frame(client_ids: list[str], request_id: int) -> protocol.GetPresence:
    return protocol.GetPresence(id=request_id, client_ids=client_ids)


def _add_contact_frame(client_id: str, request_id: int) -> protocol.AddContact:
    return protocol.AddContact(id=request_id, client_id=client_id)


def _send_frame(
    item: OutgoingMessage, mentions: list[str], files: Sequence[StoredFile], request_id: int
) -> protocol.Send:
    reply_to: protocol.ReplyTo | msgspec.UnsetType = msgspec.UNSET
    if item.reply_seq is not None and item.reply_sender is not None:
        reply_to = protocol.ReplyTo(seq=item.reply_seq, sender=item.reply_sender)
    forwarded: protocol.Forwarded | msgspec.UnsetType = msgspec.UNSET
    if item.forwarded_name is not None:
        forwarded = protocol.Forwarded(name=item.forwarded_name, sender=item.forwarded_sender)
    # issue 10: with files, the text is their caption (possibly empty).
    attachments = [
        protocol.Attachment(file_id=f.file_id, thumbnail=f.thumbnail)
        for f in files
        if f.file_id is not None
    ]
    frame = protocol.Send(
        id=request_id,
        key=item.key,
        text=caption_of(item.text, [f.name for f in files]) if files else item.text,
        to=None if item.is_group else item.conversation,
        group=item.conversation if item.is_group else None,
        reply_to=reply_to,
        forwarded_from=forwarded,
        files=attachments or None,
    )
    if mentions:  # absent otherwise: the frame stays byte for byte what it was
        frame = msgspec.structs.replace(frame, mentions=mentions)
    return frame


def _entry_frame(
    item: OutgoingEntry, request_id: int
) -> protocol.Edit | protocol.Delete | protocol.React:
    to = None if item.is_group else item.conversation
    group = item.conversation if item.is_group else None
    if item.kind == "edit":
        assert item.text is not None
        return protocol.Edit(
            id=request_id, key=item.key, target=item.target_seq, text=item.text, to=to, group=group
        )
    if item.kind == "delete":
        return protocol.Delete(
            id=request_id, key=item.key, target=item.target_seq, to=to, group=group
        )
    assert item.emoji is not None
    return protocol.React(
        id=request_id,
        key=item.key,
        target=item.target_seq,
        emoji=item.emoji,
        on=item.on,
        to=to,
        group=group,
    )
