"""The server's rules, one module per feature, above a thin repository.

Each feature decides on the in-memory views of :mod:`.core` (clients, groups, who is
online) and stores its decisions through the write :class:`~.core.Pipeline`, which commits
every connection's writes of one loop turn as one transaction. Handlers take a
:class:`~.core.Peer` (a connection) and a validated request frame; they answer by queueing
frames on peers. :class:`Service` wires the features and is the table of handlers the
asyncio server dispatches on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from messenger_server import protocol
from messenger_server.config import Settings
from messenger_server.repository import Repository
from messenger_server.service.bus import Bus
from messenger_server.service.cluster import Cluster
from messenger_server.service.contacts import Contacts
from messenger_server.service.conversation import Conversation
from messenger_server.service.core import Context, Handled, Peer, now_ms
from messenger_server.service.groups import Groups
from messenger_server.service.messaging import Messaging
from messenger_server.service.presence import Presence
from messenger_server.service.receipts import Receipts
from messenger_server.service.registration import Registration
from messenger_server.service.typing_indicator import TypingIndicator

Handler = Callable[[Peer, Any], Handled]

__all__ = ["Handler", "Peer", "Service"]


class Service:
    """Every feature, wired together, and :attr:`handlers`: frame type → handler."""

    def __init__(self, settings: Settings, repository: Repository, bus: Bus | None = None) -> None:
        self.context = Context.create(repository, settings, bus)
        self.receipts = Receipts(self.context)
        self.groups = Groups(self.context, settings, self.receipts)
        self.messaging = Messaging(self.context, settings, self.receipts, self.groups)
        self.cluster = Cluster(self.context, self.messaging, self.receipts, self.groups)
        self.presence = Presence(self.context)
        self.registration = Registration(
            self.context, settings, self.messaging, self.cluster, self.presence
        )
        self.contacts = Contacts(self.context)
        self.conversation = Conversation(self.context, settings, self.messaging)
        self.typing = TypingIndicator(self.context, self.messaging)
        self.handlers: dict[type, Handler] = {
            protocol.Send: self.messaging.send,
            protocol.Ack: self.messaging.acknowledge,
            protocol.MarkRead: self.receipts.mark_read,
            protocol.Ping: self.ping,
            protocol.Lookup: self.contacts.handle_lookup,
            protocol.AddContact: self.contacts.add_contact,
            protocol.RemoveContact: self.contacts.remove_contact,
            protocol.CreateGroup: self.groups.handle_group_creation,
            protocol.AddMember: self.groups.add_member,
            protocol.RemoveMember: self.groups.remove_member,
            protocol.LeaveGroup: self.groups.leave_group,
            protocol.ListGroups: self.groups.list_groups,
            protocol.Register: self.registration.handle_registration,
            protocol.Login: self.registration.handle_login,
            protocol.Edit: self.conversation.edit,
            protocol.Delete: self.conversation.delete,
            protocol.React: self.conversation.react,
            protocol.Typing: self.typing.typing,
            protocol.GetPresence: self.presence.get_presence,
            protocol.SetPrivacy: self.presence.set_privacy,
            protocol.UpdateGroup: self.groups.update_group,
            protocol.SetAdmin: self.groups.set_admin,
            protocol.DeleteGroup: self.groups.delete_group,
        }
        """Every request a session lets through (``hello`` is the server's own)."""

    @staticmethod
    def ping(peer: Peer, request: protocol.Ping) -> Handled:
        peer.reply(protocol.Pong(request.id, now_ms()))
        return None

    def stopping(self) -> None:
        """The server stops: what must be stored before the connections close."""
        self.presence.stopping()

    def disconnected(self, peer: Peer) -> None:
        """A connection ended: it is no longer online, its backlog stops."""
        client_id = peer.session.client_id
        if client_id is not None and self.context.online.get(client_id) is peer:
            del self.context.online[client_id]
            if peer.session.close_reason != protocol.ErrorCode.SESSION_REPLACED:
                self.presence.disconnected(client_id)  # replaced: online on another node
        if client_id is not None:
            self.cluster.release(peer, client_id)
        self.messaging.forget(peer)
