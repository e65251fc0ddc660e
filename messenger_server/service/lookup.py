"""``lookup``: does a client ID exist (and is it enabled), and what is its display name."""

from __future__ import annotations

from messenger_server import protocol
from messenger_server.protocol import ErrorCode as Code
from messenger_server.service.core import Context, Handled, Peer


class Lookup:
    def __init__(self, context: Context) -> None:
        self.context = context

    def handle_lookup(self, peer: Peer, request: protocol.Lookup) -> Handled:
        client = self.context.directory.cached(request.client_id)
        if client is None:
            return self._load_then_answer(peer, request)
        self._answer(peer, request, client.display_name if not client.disabled else None)
        return None

    async def _load_then_answer(self, peer: Peer, request: protocol.Lookup) -> None:
        client = await self.context.directory.active(request.client_id)
        self._answer(peer, request, client.display_name if client is not None else None)

    def _answer(self, peer: Peer, request: protocol.Lookup, display_name: str | None) -> None:
        if display_name is None:
            self.context.error(peer, request.id, Code.UNKNOWN_CLIENT, "no client with this ID")
        else:
            peer.reply(protocol.Contact(request.id, request.client_id, display_name))
