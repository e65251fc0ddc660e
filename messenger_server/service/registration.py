"""Identities: registering a new client, and logging in as one.

``register`` makes a random ID and a secret credential (stored hashed), per the
registration policy. ``login`` checks the credential, takes over from an older connection
of the same client (one live connection per identity: the newest wins), and starts the
backlog.
"""

from __future__ import annotations

import logging

from messenger_server import protocol
from messenger_server.auth import hash_credential, new_credential, verify_credential
from messenger_server.config import Settings
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import ClientRecord, InsertClient, StorageError
from messenger_server.service.core import Context, Handled, Peer, generate_unique_id, now_ms
from messenger_server.service.messaging import Messaging, self_conversation

log = logging.getLogger(__name__)


class Registration:
    def __init__(self, context: Context, settings: Settings, messaging: Messaging) -> None:
        self.context = context
        self.settings = settings
        self.messaging = messaging

    def handle_registration(self, peer: Peer, request: protocol.Register) -> Handled:
        """``register``: a new identity; the connection stays unauthenticated."""
        if self.settings.registration != "open":
            self.context.error(
                peer, request.id, Code.REGISTRATION_CLOSED, "this server does not register"
            )
            return None
        return self._register(peer, request)

    async def _register(self, peer: Peer, request: protocol.Register) -> None:
        display_name = request.display_name.strip()
        credential = new_credential()
        secret_hash = hash_credential(credential)
        try:
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
        client = await self.context.repository.get_client(request.client_id)  # not cached
        if client is None:
            self._refuse(peer, request.id, Code.UNKNOWN_CLIENT, "unknown client ID")
            return
        if not verify_credential(request.credential, client.secret_hash):
            self._refuse(peer, request.id, Code.INVALID_CREDENTIALS, "wrong credential")
            return
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

    @staticmethod
    def _refuse(peer: Peer, request_id: int, code: str, message: str) -> None:
        log.info("login refused: %s", code)
        peer.session.refuse_login(request_id, code, message)


def gone(peer: Peer) -> bool:
    """Whether the connection has ended (a function: the answer changes across awaits)."""
    return peer.closed
