"""Groups: creating them, adding and removing members, leaving, listing; renaming,
describing, promoting and demoting admins, deleting.

Rules: the creator is the first admin; only admins add or remove members, rename or
describe the group, make members admins or not, and delete the group; any member may
leave; a group never stays without an admin (the longest-standing member takes over when
the last one leaves, and the last one cannot step down); at most ``max_group_members``
members, every one an existing, enabled client who has the one adding it among its
contacts (nobody is put in a group by a stranger) and is in fewer than
``max_groups_per_client`` groups. Deleting a group removes every member.
Every change is announced with a stored ``group_update`` to each member concerned (after
the change for additions, before it for removals), acknowledged by its event id.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from messenger_server import protocol
from messenger_server.config import Settings
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import (
    AddMember,
    GroupChangeKind,
    InsertGroup,
    InsertNotices,
    MemberRecord,
    Operation,
    RemoveMember,
    SetAdmin,
    StorageError,
    StoredNotice,
    UpdateGroup,
)
from messenger_server.service.bus import GroupChanged
from messenger_server.service.core import (
    Context,
    GroupState,
    Handled,
    Peer,
    generate_unique_id,
    now_ms,
)
from messenger_server.service.receipts import Receipts

log = logging.getLogger(__name__)


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Groups:
    def __init__(self, context: Context, settings: Settings, receipts: Receipts) -> None:
        self.context = context
        self.receipts = receipts
        self.max_members = settings.max_group_members
        self.max_groups = settings.max_groups_per_client

    # -- requests --

    def handle_group_creation(self, peer: Peer, request: protocol.CreateGroup) -> Handled:
        """``create_group``: answered ``group``."""
        return self._guarded(peer, request.id, self._create(peer, request))

    def add_member(self, peer: Peer, request: protocol.AddMember) -> Handled:
        """``add_member`` (admins only): answered ``group``."""
        return self._guarded(peer, request.id, self._add(peer, request))

    def remove_member(self, peer: Peer, request: protocol.RemoveMember) -> Handled:
        """``remove_member`` (admins only, or oneself): answered ``group``."""
        return self._guarded(
            peer, request.id, self._remove(peer, request.id, request.group, request.client_id)
        )

    def leave_group(self, peer: Peer, request: protocol.LeaveGroup) -> Handled:
        """``leave_group``: answered ``ok``."""
        actor = peer.session.client_id
        assert actor is not None
        return self._guarded(
            peer, request.id, self._remove(peer, request.id, request.group, actor), leaving=True
        )

    def list_groups(self, peer: Peer, request: protocol.ListGroups) -> Handled:
        return self._list(peer, request)

    def update_group(self, peer: Peer, request: protocol.UpdateGroup) -> Handled:
        """``update_group`` (admins only): answered ``group``."""
        return self._guarded(peer, request.id, self._update(peer, request))

    def set_admin(self, peer: Peer, request: protocol.SetAdmin) -> Handled:
        """``set_admin`` (admins only): answered ``group``."""
        return self._guarded(peer, request.id, self._set_admin(peer, request))

    def delete_group(self, peer: Peer, request: protocol.DeleteGroup) -> Handled:
        """``delete_group`` (admins only): answered ``ok``."""
        return self._guarded(peer, request.id, self._delete(peer, request), leaving=True)

    async def _list(self, peer: Peer, request: protocol.ListGroups) -> None:
        """One page of the caller's groups: however many groups, no reply is large."""
        client_id = peer.session.client_id
        assert client_id is not None
        await self.context.pipeline.barrier()  # changes decided before are stored
        page = protocol.MAX_GROUPS_PAGE
        records = await self.context.repository.groups_page(client_id, request.after, page + 1)
        infos = []
        for record in records[:page]:
            state = self.context.groups.cached(record.group_id)
            infos.append(state.info() if state is not None else GroupState.of(record).info())
        following = records[page - 1].group_id if len(records) > page else None
        peer.reply(protocol.Groups(request.id, infos, following))

    async def _guarded(
        self,
        peer: Peer,
        request_id: int,
        work: Coroutine[Any, Any, GroupState],
        *,
        leaving: bool = False,
    ) -> None:
        """Run a change and answer it; a refusal becomes an ``error`` reply."""
        try:
            state = await work
        except Refused as exc:
            self.context.error(peer, request_id, exc.code, exc.message)
            return
        except StorageError:
            self.context.error(peer, request_id, Code.INTERNAL_ERROR, "internal server error")
            return
        peer.reply(
            protocol.Ok(request_id) if leaving else protocol.GroupReply(request_id, state.info())
        )

    async def _create(self, peer: Peer, request: protocol.CreateGroup) -> GroupState:
        creator = peer.session.client_id
        assert creator is not None
        everyone = list(dict.fromkeys([creator, *request.members]))
        if len(everyone) > self.max_members:
            raise Refused(Code.GROUP_FULL, f"a group has at most {self.max_members} members")
        if self.context.disk.full():
            raise Refused(Code.STORAGE_FULL, "the server is out of space")
        names = await self._active_clients(everyone)
        await self._willing(creator, everyone[1:])
        await self._room_for(everyone)
        while True:
            group_id = generate_unique_id("G-")
            if (
                self.context.groups.cached(group_id) is None
                and await self.context.repository.get_group(group_id) is None
            ):
                break
        created = now_ms()
        state = GroupState(group_id, request.name.strip(), creator, created)
        ops: list[Operation] = [InsertGroup(group_id, state.name, creator, created)]
        for index, client_id in enumerate(everyone):
            member = MemberRecord(
                client_id, names[client_id], client_id == creator, created + index
            )
            state.members[client_id] = member
            ops.append(AddMember(group_id, client_id, member.admin, member.joined_at))
        self.context.groups.put(state)
        self.receipts.track(group_id)
        await self._change(state, ops, "created", creator, None, everyone)
        return state

    async def _add(self, peer: Peer, request: protocol.AddMember) -> GroupState:
        actor = peer.session.client_id
        assert actor is not None
        state = await self._admin_of(request.group, actor)
        names = await self._active_clients([request.client_id])
        if request.client_id in state.members:
            raise Refused(Code.ALREADY_A_MEMBER, f"{request.client_id} is in the group already")
        await self._willing(actor, [request.client_id])
        await self._room_for([request.client_id])
        if request.client_id in state.members:  # added meanwhile by another request
            raise Refused(Code.ALREADY_A_MEMBER, f"{request.client_id} is in the group already")
        if len(state.members) >= self.max_members:
            raise Refused(Code.GROUP_FULL, f"a group has at most {self.max_members} members")
        # Decided: the state changes now, so that requests handled meanwhile see it.
        member = MemberRecord(request.client_id, names[request.client_id], request.admin, now_ms())
        state.members[request.client_id] = member
        ops: list[Operation] = [
            AddMember(state.group_id, member.client_id, member.admin, member.joined_at)
        ]
        await self._change(state, ops, "member_added", actor, member.client_id, list(state.members))
        return state

    async def _remove(
        self, peer: Peer, request_id: int, group_id: str, client_id: str
    ) -> GroupState:
        actor = peer.session.client_id
        assert actor is not None
        state = await self._member_of(group_id, actor)
        if actor != client_id:
            if not state.members[actor].admin:
                raise Refused(Code.NOT_ADMIN, "only the group's admins change its members")
            if client_id not in state.members:
                raise Refused(Code.NOT_A_MEMBER, f"{client_id} is not in {group_id}")
        before = list(state.members)
        del state.members[client_id]
        ops: list[Operation] = [RemoveMember(group_id, client_id)]
        # A group never stays without an admin: the longest-standing member takes over.
        if state.members and not any(m.admin for m in state.members.values()):
            heir = min(state.members.values(), key=lambda m: (m.joined_at, m.client_id))
            state.members[heir.client_id] = MemberRecord(
                heir.client_id, heir.display_name, True, heir.joined_at
            )
            ops.append(SetAdmin(group_id, heir.client_id, True))
        change: GroupChangeKind = "member_left" if actor == client_id else "member_removed"
        await self._change(state, ops, change, actor, client_id, before)
        return state

    async def _update(self, peer: Peer, request: protocol.UpdateGroup) -> GroupState:
        actor = peer.session.client_id
        assert actor is not None
        state = await self._admin_of(request.group, actor, "only the group's admins change it")
        name = request.name.strip() if request.name is not None else None
        description = request.description.strip() if request.description is not None else None
        if name in (None, state.name) and description in (None, state.description):
            return state  # nothing changes: no update
        if name is not None:
            state.name = name
        if description is not None:
            state.description = description
        ops: list[Operation] = [UpdateGroup(state.group_id, name, description)]
        await self._change(state, ops, "updated", actor, None, list(state.members))
        return state

    async def _set_admin(self, peer: Peer, request: protocol.SetAdmin) -> GroupState:
        actor = peer.session.client_id
        assert actor is not None
        state = await self._admin_of(request.group, actor, "only the group's admins change it")
        member = state.members.get(request.client_id)
        if member is None:
            raise Refused(Code.NOT_A_MEMBER, f"{request.client_id} is not in {request.group}")
        if member.admin == request.admin:
            return state  # nothing changes: no update
        if not request.admin and sum(m.admin for m in state.members.values()) == 1:
            raise Refused(Code.LAST_ADMIN, "a group keeps an admin: make another one first")
        state.members[member.client_id] = MemberRecord(
            member.client_id, member.display_name, request.admin, member.joined_at
        )
        ops: list[Operation] = [SetAdmin(state.group_id, member.client_id, request.admin)]
        change: GroupChangeKind = "promoted" if request.admin else "demoted"
        await self._change(state, ops, change, actor, member.client_id, list(state.members))
        return state

    async def _delete(self, peer: Peer, request: protocol.DeleteGroup) -> GroupState:
        actor = peer.session.client_id
        assert actor is not None
        state = await self._admin_of(request.group, actor, "only the group's admins delete it")
        before = list(state.members)
        state.members.clear()
        ops: list[Operation] = [RemoveMember(state.group_id, member) for member in before]
        await self._change(state, ops, "deleted", actor, None, before)
        return state

    # -- helpers --

    async def _change(
        self,
        state: GroupState,
        ops: list[Operation],
        change: GroupChangeKind,
        actor: str,
        subject: str | None,
        recipients: list[str],
    ) -> None:
        """Store ``ops`` and the notices of ``change`` in one transaction, then push the
        update to the recipients online."""
        ts = now_ms()
        notice = InsertNotices(
            state.group_id, change, actor, subject, ts, tuple(sorted(recipients))
        )
        try:
            results = await self.context.pipeline.run([*ops, notice])
        except StorageError:
            self.context.groups.forget(state.group_id)  # decided, not stored: reload it
            raise
        event_ids: dict[str, int] = results[-1]  # type: ignore[assignment]
        for result in results:  # a new member's marker: the senders count it
            self.receipts.moved(result)
        bus = self.context.bus
        if bus.clustered:  # what the others changed meanwhile, too
            await self.context.groups.refresh(state.group_id)
        info = state.info()
        elsewhere: dict[str, tuple[int, bytes]] = {}
        for recipient, event_id in event_ids.items():
            frame = protocol.encode(protocol.GroupUpdate(event_id, change, actor, info, subject))
            target = self.context.online.get(recipient)
            if target is not None:
                target.push(frame, "notices", event_id)
            elif bus.clustered:
                elsewhere[recipient] = (event_id, frame)
        if bus.clustered:
            bus.publish(GroupChanged(state.group_id, elsewhere))

    async def refresh(self, group_id: str) -> None:
        """Another node changed the group: read it again."""
        await self.context.groups.refresh(group_id)

    async def _member_of(self, group_id: str, client_id: str) -> GroupState:
        state = await self.context.groups.load(group_id)
        if state is None:
            raise Refused(Code.UNKNOWN_GROUP, f"no group {group_id}")
        if client_id not in state.members:
            raise Refused(Code.NOT_A_MEMBER, f"{client_id} is not in {group_id}")
        return state

    async def _admin_of(
        self,
        group_id: str,
        client_id: str,
        refusal: str = "only the group's admins change its members",
    ) -> GroupState:
        state = await self._member_of(group_id, client_id)
        if not state.members[client_id].admin:
            raise Refused(Code.NOT_ADMIN, refusal)
        return state

    async def _willing(self, actor: str, members: list[str]) -> None:
        """Every one of ``members`` has ``actor`` among its contacts, or refused."""
        others = [member for member in members if member != actor]
        willing = await self.context.repository.contacts_among(actor, others)
        for member in others:
            if member not in willing:
                raise Refused(Code.NOT_A_CONTACT, f"{member} has not added you as a contact")

    async def _room_for(self, client_ids: list[str]) -> None:
        """Every one of ``client_ids`` is in fewer than ``max_groups_per_client`` groups."""
        counts = await self.context.repository.group_counts(client_ids)
        for client_id in client_ids:
            if counts.get(client_id, 0) >= self.max_groups:
                raise Refused(
                    Code.TOO_MANY_GROUPS, f"{client_id} is in {self.max_groups} groups already"
                )

    async def _active_clients(self, client_ids: list[str]) -> dict[str, str]:
        """Display names of ``client_ids``, all existing and enabled, or refused."""
        found = await self.context.directory.load(client_ids)
        for client_id in client_ids:
            record = found.get(client_id)
            if record is None or record.disabled:
                raise Refused(Code.UNKNOWN_CLIENT, f"no client {client_id}")
        return {client_id: found[client_id].display_name for client_id in client_ids}

    async def group_update(self, notice: StoredNotice) -> protocol.GroupUpdate:
        """A stored group update as sent in a backlog: with the group's current state."""
        state = await self.context.groups.load(notice.group_id)
        info = (
            state.info()
            if state is not None
            else protocol.GroupInfo(notice.group_id, "", [], notice.actor, notice.ts)
        )
        return protocol.GroupUpdate(
            event_id=notice.event_id,
            change=notice.change,
            actor=notice.actor,
            group=info,
            subject=notice.subject,
        )
