"""Identities: registering a new client, and logging in as one.

``register`` makes a random ID and a secret credential (stored hashed), per the
registration policy. ``login`` checks the credential, takes over from an older connection
of the same client (one live connection per identity: the newest wins), and starts the
backlog.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Final

from messenger_server import protocol
from messenger_server.auth import hash_credential, new_credential, verify_credential
from messenger_server.config import Settings
from messenger_server.logs import limit_repeats
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import ClientRecord, InsertClient, StorageError, UseInvite
from messenger_server.service.cluster import Cluster
from messenger_server.service.core import Context, Handled, Peer, generate_unique_id, now_ms
from messenger_server.service.messaging import Messaging, self_conversation
from messenger_server.service.presence import Presence

log = logging.getLogger(__name__)
limit_repeats(log)


class AddressWindow:
    """How many times each address did something in the last ``window`` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._times: dict[str, deque[float]] = {}

    def count(self, address: str) -> int:
        times = self._times.get(address)
        if times is None:
            return 0
        horizon = self._clock() - self._window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._times[address]
        return len(times)

    def add(self, address: str) -> None:
        self._times.setdefault(address, deque()).append(self._clock())


class LoginThrottle:
    """Failed logins slow down whoever makes them, with a delay that doubles with each
    failure after the first few: per address, and per identity *from that address* (so
    that a stranger failing on someone's ID cannot lock that someone out). A success
    clears the identity's count; an hour without failures clears an address's."""

    FREE: Final = 5
    """Failures allowed before the delays start."""
    MAX_DELAY: Final = 300.0
    FORGET_AFTER: Final = 3600.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[tuple[str, ...], tuple[int, float, float]] = {}
        """key → (failures, blocked until, last failure)."""

    def wait(self, *keys: tuple[str, ...]) -> float:
        """Seconds before a login for these keys may be tried again (0: now)."""
        now = self._clock()
        blocked = max((self._failures.get(key, (0, 0.0, 0.0))[1] for key in keys), default=0)
        return max(0.0, blocked - now)

    def failed(self, *keys: tuple[str, ...]) -> None:
        now = self._clock()
        if len(self._failures) > 100_000:
            self._failures = {
                k: v for k, v in self._failures.items() if now - v[2] < self.FORGET_AFTER
            }
        for key in keys:
            count, _, last = self._failures.get(key, (0, 0.0, now))
            if now - last > self.FORGET_AFTER:
                count = 0
            count += 1
            delay = min(self.MAX_DELAY, 2.0 ** (count - self.FREE)) if count > self.FREE else 0
            self._failures[key] = (count, now + delay, now)

    def succeeded(self, key: tuple[str, ...]) -> None:
        self._failures.pop(key, None)


class Registration:
    def __init__(
        self,
        context: Context,
        settings: Settings,
        messaging: Messaging,
        cluster: Cluster,
        presence: Presence,
    ) -> None:
        self.context = context
        self.settings = settings
        self.messaging = messaging
        self.cluster = cluster
        self.presence = presence
        self.registrations = AddressWindow(3600.0)
        self.throttle = LoginThrottle()

    def handle_registration(self, peer: Peer, request: protocol.Register) -> Handled:
        """``register``: a new identity; the connection stays unauthenticated."""
        policy = self.settings.registration
        if policy == "closed":
            self.context.error(
                peer, request.id, Code.REGISTRATION_CLOSED, "this server does not register"
            )
            return None
        if policy == "invite" and request.invite is None:
            self.context.error(
                peer, request.id, Code.INVITE_REQUIRED, "this server registers with an invite"
            )
            return None
        address = peer.address or "?"
        if (  # an invite is the administrator's say-so: only open registration is limited
            policy == "open"
            and self.registrations.count(address) >= self.settings.registrations_per_ip_hour
        ):
            log.warning("registrations refused for %s: over the hourly limit", address)
            self.context.error(
                peer,
                request.id,
                Code.RATE_LIMITED,
                "too many registrations from your address; try again later",
            )
            return None
        if self.context.disk.full():
            self.context.error(peer, request.id, Code.STORAGE_FULL, "the server is out of space")
            return None
        return self._register(peer, request, address)

    async def _register(self, peer: Peer, request: protocol.Register, address: str) -> None:
        display_name = request.display_name.strip()
        credential = new_credential()
        secret_hash = hash_credential(credential)
        try:
            if request.invite is not None and self.settings.registration == "invite":
                (valid,) = await self.context.pipeline.run([UseInvite(request.invite, now_ms())])
                if not valid:
                    self.context.error(
                        peer, request.id, Code.INVALID_INVITE, "unknown, used or expired invite"
                    )
                    return
            while True:  # an ID already taken (40 random bits: hardly ever): another one
                client_id = generate_unique_id()
                created = now_ms()
                (inserted,) = await self.context.pipeline.run(
                    [InsertClient(client_id, display_name, secret_hash, created)]
                )
                if inserted:
                    break
        except StorageError:
            self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
            return
        self.registrations.add(address)
        self.context.directory.put(
            ClientRecord(client_id, display_name, secret_hash, created, False)
        )
        log.info("registered %s", client_id)
        peer.reply(protocol.Registered(request.id, client_id, credential, display_name))

    def handle_login(self, peer: Peer, request: protocol.Login) -> Handled:
        return self._login(peer, request)

    async def _login(self, peer: Peer, request: protocol.Login) -> None:
        """Authenticate, replace an older connection of the same client, then start the
        backlog: ``logged_in`` first, whose ``pending`` counts it."""
        session = peer.session
        address = ("address", peer.address or "?")
        identity = ("identity", request.client_id, peer.address or "?")
        wait = self.throttle.wait(address, identity)
        if wait > 0:
            self._refuse(
                peer,
                request.id,
                Code.RATE_LIMITED,
                f"too many failed logins; try again in {math.ceil(wait)} s",
            )
            return
        client = await self.context.repository.get_client(request.client_id)  # not cached
        if client is None:
            self.throttle.failed(address, identity)
            self._refuse(peer, request.id, Code.UNKNOWN_CLIENT, "unknown client ID")
            return
        if not verify_credential(request.credential, client.secret_hash):
            self.throttle.failed(address, identity)
            self._refuse(peer, request.id, Code.INVALID_CREDENTIALS, "wrong credential")
            return
        self.throttle.succeeded(identity)
        if client.disabled:
            self._refuse(peer, request.id, Code.CLIENT_DISABLED, "account disabled")
            return
        if gone(peer):
            return
        self.context.directory.put(client)
        previous = self.context.online.get(client.client_id)
        if previous is not None:
            previous.close(Code.SESSION_REPLACED, "signed in from another connection")
        session.authenticated(client.client_id, client.display_name)
        session.start_backlog()
        self.context.online[client.client_id] = peer
        await self.cluster.claim(peer, client.client_id)
        # Acks the previous connection sent just before it ended may still be on their way
        # to disk: let them land, or their messages would come again.
        await self.context.pipeline.barrier()
        repository = self.context.repository
        plan = await repository.pending_conversations(
            client.client_id, self_conversation(client.client_id)
        )
        notices = await repository.count_notices(client.client_id)
        if gone(peer):  # it ended while storage answered: disconnected() has run
            return
        pending = notices + sum(count for _, _, count in plan)
        log.info("%s online, %d pending", client.client_id, pending)
        peer.reply(protocol.LoggedIn(request.id, client.client_id, client.display_name, pending))
        self.messaging.start_backlog(peer, plan=plan, receipts_since=request.receipts_since)
        self.presence.logged_in(client.client_id)

    @staticmethod
    def _refuse(peer: Peer, request_id: int, code: str, message: str) -> None:
        log.info("login refused: %s", code)
        peer.session.refuse_login(request_id, code, message)


def gone(peer: Peer) -> bool:
    """Whether the connection has ended (a function: the answer changes across awaits)."""
    return peer.closed
