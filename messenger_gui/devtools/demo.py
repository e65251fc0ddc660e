"""Realistic demo history for screenshots, manual checks and measurements (no Qt).

Everything goes through the real :class:`~messenger_gui.storage.ClientStore` API, as the
client core would store it: incoming messages with ``save_messages_to_history``, outgoing
ones with ``queue_outgoing`` then ``mark_sent``, and their ticks from the others' markers
with ``apply_receipts``, as ``receipts`` events bring them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from messenger_gui.storage import ClientStore
from messenger_server import protocol

OWN_ID: Final = "K7QM-4XPA"
OWN_NAME: Final = "Marina Alves"

ANA: Final = ("A3F9-KD2M", "Ana Souza")
BRUNO: Final = ("B8N4-QW7T", "Bruno Lima")
CARLA: Final = ("C5R2-XH9P", "Carla Mendes")
DAVID: Final = ("D6T1-MZ4V", "David Chen")
ELENA: Final = ("E2W8-PJ5K", "Elena Petrova")
HIKE_GROUP: Final = "G-H1KE-7QW3"
TEAM_GROUP: Final = "G-T3AM-8RX2"


@dataclass
class _Counter:
    message_id: itertools.count[int]

    def next(self) -> int:
        return next(self.message_id)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class DemoWriter:
    """Writes one conversation's messages in order, assigning ``seq`` like the server."""

    def __init__(self, store: ClientStore, ids: _Counter) -> None:
        self.store = store
        self.ids = ids
        self.seqs: dict[str, int] = {}

    def _seq(self, conversation: str) -> int:
        self.seqs[conversation] = self.seqs.get(conversation, 0) + 1
        return self.seqs[conversation]

    def incoming(
        self, sender: tuple[str, str], text: str, at: datetime, *, group: str | None = None
    ) -> int:
        conversation = group or sender[0]
        seq = self._seq(conversation)
        self.store.save_messages_to_history(
            [
                protocol.Message(
                    message_id=self.ids.next(),
                    seq=seq,
                    ts=_ms(at),
                    sender=sender[0],
                    sender_name=sender[1],
                    text=text,
                    to=None if group else OWN_ID,
                    group=group,
                )
            ]
        )
        return seq

    def outgoing(
        self, conversation: str, text: str, at: datetime, *, is_group: bool = False, state: str
    ) -> int | None:
        """``state``: queued, sent, delivered or read."""
        queued = self.store.queue_outgoing(conversation, is_group, text)
        if state == "queued":
            return None
        seq = self._seq(conversation)
        message_id = self.ids.next()
        self.store.mark_sent(queued.key, message_id, seq, _ms(at), me=OWN_ID)
        if state in ("delivered", "read"):
            if is_group:
                others = [m.client_id for m in self.store.group_members(conversation)]
            else:
                others = [conversation]
            receipts = [
                protocol.Receipt(
                    by=member,
                    delivered=seq,
                    read=seq if state == "read" else 0,
                    group=conversation if is_group else None,
                )
                for member in others
                if member != OWN_ID
            ]
            self.store.apply_receipts(
                [protocol.Receipts(version=self.ids.next(), receipts=receipts)], me=OWN_ID
            )
        return seq


def fill_demo_history(store: ClientStore, now: datetime | None = None) -> None:
    """A handful of contacts and two groups with a few days of conversation: unread
    badges, every tick state, links, a long message, day separators."""
    now = now or datetime.now().astimezone()
    today = now.replace(hour=9, minute=12, second=0, microsecond=0)
    if today > now:
        today -= timedelta(days=1)
    w = DemoWriter(store, _Counter(itertools.count(1000)))
    for client_id, name in (ANA, BRUNO, CARLA, DAVID, ELENA):
        store.add_contact(client_id, name)
    store.save_group(
        protocol.GroupInfo(
            group_id=HIKE_GROUP,
            name="Weekend hike ⛰️",
            members=[
                protocol.Member(client_id=OWN_ID, display_name=OWN_NAME, admin=True),
                protocol.Member(client_id=ANA[0], display_name=ANA[1]),
                protocol.Member(client_id=BRUNO[0], display_name=BRUNO[1]),
                protocol.Member(client_id=DAVID[0], display_name=DAVID[1]),
            ],
            created_by=OWN_ID,
            created_at=_ms(today - timedelta(days=5)),
        )
    )
    store.save_group(
        protocol.GroupInfo(
            group_id=TEAM_GROUP,
            name="Design team",
            members=[
                protocol.Member(client_id=CARLA[0], display_name=CARLA[1], admin=True),
                protocol.Member(client_id=OWN_ID, display_name=OWN_NAME),
                protocol.Member(client_id=ELENA[0], display_name=ELENA[1]),
            ],
            created_by=CARLA[0],
            created_at=_ms(today - timedelta(days=20)),
        )
    )
    d2 = today - timedelta(days=2)
    d1 = today - timedelta(days=1)
    # Ana: the open chat in screenshots.
    w.incoming(ANA, "Hi Marina! Are we still on for Saturday? 🙂", d2.replace(hour=18, minute=4))
    w.outgoing(
        ANA[0],
        "Yes! I booked the cabin near the lake.",
        d2.replace(hour=18, minute=6),
        state="read",
    )
    w.incoming(ANA, "Perfect. Can you send me the link?", d2.replace(hour=18, minute=7))
    w.outgoing(
        ANA[0],
        "Here it is: https://example.org/cabins/lakeside-42 — check-in is after 3 pm.",
        d2.replace(hour=18, minute=9),
        state="read",
    )
    w.incoming(
        ANA,
        "Great, thanks! I'll bring the board games and some snacks. Do you think we need "
        "sleeping bags or are there blankets there? Last time I froze at night and I don't "
        "want to repeat that experience 😅",
        d1.replace(hour=20, minute=31),
    )
    w.outgoing(
        ANA[0],
        "There are blankets, but bring a warm jacket.",
        d1.replace(hour=20, minute=40),
        state="read",
    )
    w.outgoing(
        ANA[0],
        "Also: the trail starts at 8:00 sharp.",
        d1.replace(hour=20, minute=41),
        state="read",
    )
    seq = w.incoming(ANA, "Got it 👍", d1.replace(hour=21, minute=2))
    store.set_read_marker(ANA[0], seq)
    w.incoming(ANA, "Good morning! Leaving home now.", today.replace(hour=8, minute=55))
    w.incoming(ANA, "Can you grab coffee on the way? ☕", today.replace(hour=8, minute=56))
    w.outgoing(
        ANA[0], "Sure, flat white for you?", today.replace(hour=9, minute=1), state="delivered"
    )
    w.outgoing(ANA[0], "On my way", today.replace(hour=9, minute=5), state="sent")
    w.outgoing(ANA[0], "See you at the parking lot", today, state="queued")

    # Bruno: unread messages.
    w.outgoing(
        BRUNO[0], "Did you see the game yesterday?", d1.replace(hour=22, minute=10), state="read"
    )
    seq = w.incoming(BRUNO, "Of course! What a finish.", d1.replace(hour=22, minute=15))
    store.set_read_marker(BRUNO[0], seq)
    w.incoming(BRUNO, "By the way, are you coming on Saturday?", today.replace(hour=7, minute=40))
    w.incoming(BRUNO, "I can give you a ride", today.replace(hour=7, minute=41))
    w.incoming(BRUNO, "Let me know before 10", today.replace(hour=7, minute=42))

    # Hike group.
    w.outgoing(
        HIKE_GROUP,
        "Welcome everyone! Plan for Saturday below.",
        d1.replace(hour=10, minute=0),
        is_group=True,
        state="read",
    )
    w.incoming(DAVID, "Count me in 🙌", d1.replace(hour=10, minute=5), group=HIKE_GROUP)
    w.incoming(
        ANA, "Same here. Weather looks good.", d1.replace(hour=10, minute=7), group=HIKE_GROUP
    )
    seq = w.incoming(
        BRUNO, "I'll drive. 3 seats left.", d1.replace(hour=10, minute=30), group=HIKE_GROUP
    )
    store.set_read_marker(HIKE_GROUP, seq)
    w.incoming(
        DAVID,
        "Forecast: sunny, 18 °C. https://weather.example.com/lake",
        today.replace(hour=8, minute=20),
        group=HIKE_GROUP,
    )

    # Carla, David, Elena, team.
    w.incoming(CARLA, "The new mockups are ready for review.", d2.replace(hour=15, minute=0))
    w.outgoing(
        CARLA[0],
        "Looks great, just a few comments on the sidebar.",
        d2.replace(hour=15, minute=20),
        state="read",
    )
    seq = w.incoming(CARLA, "Thanks, I'll update them tomorrow.", d2.replace(hour=15, minute=22))
    store.set_read_marker(CARLA[0], seq)
    seq = w.incoming(
        CARLA, "Meeting moved to Thursday", today - timedelta(days=4), group=TEAM_GROUP
    )
    store.set_read_marker(TEAM_GROUP, seq)
    w.outgoing(
        DAVID[0],
        "Thanks for the book recommendation!",
        today - timedelta(days=9),
        state="delivered",
    )
    seq = w.incoming(ELENA, "Privet! Long time no see", today - timedelta(days=40))
    store.set_read_marker(ELENA[0], seq)


def long_conversation(count: int, start: datetime | None = None) -> Iterator[protocol.Message]:
    """``count`` incoming messages from Ana, a few minutes apart, for measurements."""
    start = start or datetime.now().astimezone() - timedelta(minutes=3 * count)
    sentence = (
        "hello there how are you doing today I was thinking about the trip and the "
        "pictures from last weekend let us meet for coffee soon maybe on friday"
    )
    words = sentence.split()
    for i in range(count):
        length = 3 + (i * 7) % 40
        text = " ".join(words[(i + k) % len(words)] for k in range(length))
        yield protocol.Message(
            message_id=10_000_000 + i,
            seq=i + 1,
            ts=_ms(start + timedelta(minutes=3 * i)),
            sender=ANA[0],
            sender_name=ANA[1],
            text=f"{i + 1}: {text}",
            to=OWN_ID,
        )
