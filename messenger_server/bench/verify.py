"""Checking what the benchmark measures: every message sent once, delivered once, in order.

A benchmark that only counts frames can hide a loss behind a duplicate. Here each sender
numbers its messages (``n``, carried at the start of the text), and the :class:`Verifier`
matches every ``sent`` reply and every delivery to what was sent:

* each ``sent`` answers a message that was sent, once, and is not a ``duplicate``;
* each delivery reaches a recipient of that message (the peer, or a member of the group
  other than the sender), once, in the order the sender sent its messages to that
  conversation, with the ``message_id`` its ``sent`` gave, and with a ``seq`` greater
  than the one before in the recipient's conversation;
* at the end nothing is missing: every message has its ``sent`` and all its deliveries;
* no ``error``, ``goodbye``, lost connection or frame the scenario does not expect.

A message counts (and gets its latency) once its sender has ``sent`` and every recipient
has it. Any failed check makes the run invalid: the benchmark then prints what failed and
exits non-zero instead of printing a rate.

Sans-I/O: the load generator's connections call it; tests feed it synthetic events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

MAX_REPORTED: Final = 20
"""Failures described one by one; the rest are counted."""


class Outbox:
    """What one sender sent, by message number ``n`` (0, 1, 2…)."""

    __slots__ = (
        "client_id",
        "conversation",
        "message_id",
        "next_position",
        "position",
        "remaining",
        "replied",
        "started",
    )

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.conversation: list[str] = []
        """The peer (direct message) or the group of each message."""
        self.position: list[int] = []
        """Each message's place among the sender's messages to its conversation."""
        self.started: list[int] = []
        """When each message was sent (or due, when paced), in ns."""
        self.remaining: list[int] = []
        """What each message still waits for: its ``sent`` plus one per recipient."""
        self.message_id: list[int] = []
        """The ``message_id`` of each, once a ``sent`` or a delivery has told (0 before)."""
        self.replied = bytearray()
        self.next_position: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.started)


class Inbox:
    """What one recipient has had delivered."""

    __slots__ = ("client_id", "expected", "last_seq", "skipped")

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.expected: dict[str | tuple[str, str], int] = {}
        """Per sender (direct messages) or (sender, group): the position expected next."""
        self.last_seq: dict[str, int] = {}
        """Per conversation (the group, or the sender of a direct message): the last seq."""
        self.skipped: dict[str | tuple[str, str], set[int]] = {}
        """Positions jumped over by a later delivery (an anomaly; kept to name it)."""


class Verifier:
    """Matches ``sent`` replies and deliveries to the messages sent; collects failures,
    completions and latencies.

    Register every client with :meth:`outbox` / :meth:`inbox` (and groups with
    :meth:`group`), number each message with :meth:`sending` before writing it, report
    :meth:`replied` and :meth:`delivered` as frames come, anything unexpected with
    :meth:`stray` or :meth:`fail`, and call :meth:`finish` once the run is over: after
    it, :attr:`ok` says whether the run is valid.
    """

    def __init__(self) -> None:
        self.outboxes: dict[str, Outbox] = {}
        self.inboxes: dict[str, Inbox] = {}
        self.members: dict[str, frozenset[str]] = {}
        self.failures: list[str] = []
        self.failure_count = 0
        self.sent_count = 0
        self.completed = 0
        self.latencies: list[int] = []
        self.last_completion = 0
        self._target = -1
        self._on_target: Callable[[], None] | None = None

    # -- setting up --

    def outbox(self, client_id: str) -> Outbox:
        box = self.outboxes.get(client_id)
        if box is None:
            box = self.outboxes[client_id] = Outbox(client_id)
        return box

    def inbox(self, client_id: str) -> Inbox:
        box = self.inboxes.get(client_id)
        if box is None:
            box = self.inboxes[client_id] = Inbox(client_id)
        return box

    def group(self, group_id: str, members: Iterable[str]) -> None:
        """``group_id`` exists with ``members`` (its creator included)."""
        self.members[group_id] = frozenset(members)

    def start_pass(self, completions: int, on_target: Callable[[], None]) -> None:
        """Start counting a pass: :attr:`completed` and :attr:`latencies` restart, and
        ``on_target()`` is called when ``completions`` messages have completed."""
        self.completed = 0
        self.latencies = []
        self.last_completion = 0
        self._target = completions
        self._on_target = on_target
        if completions == 0:
            on_target()

    # -- events --

    def sending(self, outbox: Outbox, conversation: str, started: int) -> int:
        """A message to ``conversation`` (a peer's client ID or a group ID) is about to be
        written; returns its number ``n``, which the text must start with."""
        n = len(outbox.started)
        position = outbox.next_position.get(conversation, 0)
        outbox.next_position[conversation] = position + 1
        members = self.members.get(conversation)
        recipients = 1 if members is None else len(members) - 1
        outbox.conversation.append(conversation)
        outbox.position.append(position)
        outbox.started.append(started)
        outbox.remaining.append(recipients + 1)
        outbox.message_id.append(0)
        outbox.replied.append(0)
        self.sent_count += 1
        return n

    def replied(self, outbox: Outbox, n: int, message_id: int, duplicate: bool, now: int) -> None:
        """The ``sent`` reply to message ``n`` of ``outbox``."""
        if n < 0 or n >= len(outbox.started):
            self.fail(f"{outbox.client_id}: `sent` for message {n}, which it never sent")
            return
        if outbox.replied[n]:
            self.fail(f"{outbox.client_id}: a second `sent` for message {n}")
            return
        outbox.replied[n] = 1
        if duplicate:
            self.fail(f"{outbox.client_id}: `sent` for message {n} says duplicate")
        known = outbox.message_id[n]
        if known == 0:
            outbox.message_id[n] = message_id
        elif known != message_id:
            self._other_id(outbox, n, message_id, known)
        remaining = outbox.remaining[n] - 1
        outbox.remaining[n] = remaining
        if remaining == 0:
            self._complete(outbox, n, now)

    def delivered(
        self,
        inbox: Inbox,
        sender: str,
        group: str | None,
        n: int,
        message_id: int,
        seq: int,
        now: int,
    ) -> bool:
        """A ``message`` from ``sender`` (in ``group``, or direct when ``None``) carrying
        the sender's number ``n`` (-1: none) reached ``inbox``. Returns False when it is
        wrong."""
        outbox = self.outboxes.get(sender)
        recipient = inbox.client_id
        if outbox is None or n < 0 or n >= len(outbox.started):
            self.fail(f"{recipient}: a message {n} from {sender}, who never sent it")
            return False
        conversation = outbox.conversation[n]
        if group is None:
            right = conversation == recipient
            key: str | tuple[str, str] = sender
        else:
            members = self.members.get(group)
            right = conversation == group and members is not None and recipient in members
            key = (sender, group)
        if not right or recipient == sender:
            where = f"group {group}" if group else "a direct message"
            self.fail(
                f"{recipient}: message {n} from {sender} (sent to {conversation}) came as {where}"
            )
            return False
        expected = inbox.expected.get(key, 0)
        if outbox.position[n] != expected:
            self._out_of_line(inbox, key, sender, group, n, outbox.position[n], expected)
            return False
        inbox.expected[key] = expected + 1
        last_seq = inbox.last_seq
        conversation_key = group or sender
        if seq <= last_seq.get(conversation_key, -1):
            self.fail(
                f"{recipient}: message {n} from {sender} has seq {seq}, not above the"
                f" previous {last_seq[conversation_key]} of its conversation"
            )
        last_seq[conversation_key] = seq
        known = outbox.message_id[n]
        if known == 0:
            outbox.message_id[n] = message_id
        elif known != message_id:
            self._other_id(outbox, n, message_id, known)
        remaining = outbox.remaining[n] - 1
        outbox.remaining[n] = remaining
        if remaining == 0:
            self._complete(outbox, n, now)
        return True

    def stray(self, client_id: str, what: str) -> None:
        """``client_id`` got a frame the scenario does not expect."""
        self.fail(f"{client_id}: unexpected {what}")

    def fail(self, description: str) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_REPORTED:
            self.failures.append(description)

    # -- the end --

    def finish(self) -> None:
        """The run is over: whatever has not come by now is missing."""
        for outbox in self.outboxes.values():
            sender = outbox.client_id
            for n, remaining in enumerate(outbox.remaining):
                if remaining == 0:
                    continue
                if not outbox.replied[n]:
                    self.fail(f"{sender}: no `sent` for message {n}")
                for recipient in self._lacking(outbox, n):
                    self.fail(f"{recipient}: missing message {n} from {sender}")

    def _lacking(self, outbox: Outbox, n: int) -> list[str]:
        conversation = outbox.conversation[n]
        members = self.members.get(conversation)
        group = None if members is None else conversation
        recipients = [conversation] if members is None else sorted(members)
        key = outbox.client_id if group is None else (outbox.client_id, group)
        position = outbox.position[n]
        lacking = []
        for recipient in recipients:
            if recipient == outbox.client_id:
                continue
            inbox = self.inboxes.get(recipient)
            if (
                inbox is None
                or inbox.expected.get(key, 0) <= position
                or position in inbox.skipped.get(key, ())
            ):
                lacking.append(recipient)
        return lacking

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    def describe(self) -> list[str]:
        """The failures, for people (empty when the run is valid)."""
        lines = list(self.failures)
        if self.failure_count > len(self.failures):
            lines.append(f"… and {self.failure_count - len(self.failures)} more")
        return lines

    # -- details --

    def _other_id(self, outbox: Outbox, n: int, message_id: int, known: int) -> None:
        self.fail(
            f"{outbox.client_id}: message {n} came as message_id {message_id}, elsewhere as {known}"
        )

    def _out_of_line(
        self,
        inbox: Inbox,
        key: str | tuple[str, str],
        sender: str,
        group: str | None,
        n: int,
        position: int,
        expected: int,
    ) -> None:
        where = f" in {group}" if group else ""
        recipient = inbox.client_id
        skipped = inbox.skipped.get(key)
        if position > expected:
            self.fail(
                f"{recipient}: out of order: message {n} from {sender}{where} arrived before"
                f" {position - expected} earlier one(s)"
            )
            inbox.skipped.setdefault(key, set()).update(range(expected, position))
            inbox.expected[key] = position + 1
        elif skipped is not None and position in skipped:
            skipped.discard(position)
            self.fail(f"{recipient}: out of order: message {n} from {sender}{where} came late")
        else:
            self.fail(f"{recipient}: duplicate: message {n} from {sender}{where} came again")

    def _complete(self, outbox: Outbox, n: int, now: int) -> None:
        self.completed += 1
        self.latencies.append(now - outbox.started[n])
        if now > self.last_completion:
            self.last_completion = now
        if self.completed == self._target and self._on_target is not None:
            self._on_target()
