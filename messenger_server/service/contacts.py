"""Contacts: looking an ID up, and the server-side contact list that says who may add
whom to groups.

Anyone may write to anyone whose ID they know; but nobody is put in a group by a stranger:
``create_group`` and ``add_member`` accept a member only when that member has the one
adding it among its contacts (``add_contact``), as a messenger's "who can add me to
groups: my contacts" setting does. The app adds a contact with ``add_contact`` (which also
looks the ID up) and removes one with ``remove_contact``.
"""

from __future__ import annotations

from messenger_server import protocol
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import SetContact, StorageError
from messenger_server.service.core import Context, Handled, Peer


class Contacts:
    def __init__(self, context: Context) -> None:
        self.context = context

    def handle_lookup(self, peer: Peer, request: protocol.Lookup) -> Handled:
        """``lookup``: does the ID exist (and is it enabled), and its display name."""
        client = self.context.directory.cached(request.client_id)
        if client is None:
            return self._load_then_answer(peer, request)
        self._answer(peer, request, client.display_name if not client.disabled else None)
        return None

    async def _load_then_answer(self, peer: Peer, request: protocol.Lookup) -> None:
        client = await self.context.directory.active(request.client_id)
        self._answer(peer, request, client.display_name if client is not None else None)

    def _answer(
        self, peer: Peer, request: protocol.Lookup | protocol.AddContact, display_name: str | None
    ) -> None:
        if display_name is None:
            self.context.error(peer, request.id, Code.UNKNOWN_CLIENT, "no client with this ID")
        else:
            peer.reply(protocol.Contact(request.id, request.client_id, display_name))

    def add_contact(self, peer: Peer, request: protocol.AddContact) -> Handled:
        """``add_contact``: as ``lookup``, and the caller accepts group invitations from
        the contact from now on. Answered once stored."""
        return self._add(peer, request)

    async def _add(self, peer: Peer, request: protocol.AddContact) -> None:
        owner = peer.session.client_id
        assert owner is not None
        client = await self.context.directory.active(request.client_id)
        if client is None:
            self._answer(peer, request, None)
            return
        try:
            await self.context.pipeline.run([SetContact(owner, request.client_id, True)])
        except StorageError:
            self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
            return
        self._answer(peer, request, client.display_name)

    def remove_contact(self, peer: Peer, request: protocol.RemoveContact) -> Handled:
        """``remove_contact``: the contact may no longer add the caller to groups."""
        owner = peer.session.client_id
        assert owner is not None

        def done(result: object) -> None:
            if isinstance(result, StorageError):
                self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
            else:
                peer.reply(protocol.Ok(request.id))

        self.context.pipeline.add(SetContact(owner, request.client_id, False), done)
        return None
