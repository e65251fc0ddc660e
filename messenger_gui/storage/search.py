"""History search: an FTS5 trigram index fed the text without diacritics, so ``acao`` finds
``ação`` and the other way round, and parts of words and URLs match.

SQLite's own ``remove_diacritics`` option for ``trigram`` (3.45+) is deliberately not used: a
profile whose index named it could not even be written by an older SQLite (the triggers
would fail), and the same profile is opened by builds bundling different SQLite versions.
Folding in Python gives the same results on every version.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from bisect import bisect_right
from typing import Any

from messenger_gui.storage.records import SearchHit
from messenger_gui.storage.schema import _M_MESSAGE_COLUMNS, StoreBase, _message

log = logging.getLogger(__name__)

# --- accent folding for search --------------------------------------------------------------


def fold_accents(text: str) -> str:
    """``text`` without diacritics and with compatibility forms unified (``ação`` → ``acao``,
    ``ﬁ`` → ``fi``). Case is left alone: the trigram index ignores it."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return fold_accents(ch).lower()


def _search_text(text: str) -> str | None:
    """What the index gets instead of ``text``, or ``None`` when it is ``text`` itself."""
    folded = fold_accents(text)
    return None if folded == text else folded


def _match_span(text: str, needle: str) -> tuple[int, int] | None:
    """Where ``needle`` (already folded) occurs in ``text``, ignoring accents and case."""
    starts: list[int] = []
    pieces: list[str] = []
    position = 0
    for ch in text:
        piece = _fold_char(ch)
        starts.append(position)
        pieces.append(piece)
        position += len(piece)
    index = "".join(pieces).find(needle.lower())
    if index < 0 or not needle:
        return None
    first = bisect_right(starts, index) - 1
    last = bisect_right(starts, index + len(needle) - 1) - 1
    return first, last + 1


def _like_pattern(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(fragment: str) -> str:
    """``fragment`` as one FTS5 string: every character literal, operators included."""
    return '"' + fragment.replace('"', '""') + '"'


class SearchMixin(StoreBase):
    """The search of :class:`~messenger_gui.storage.ClientStore`."""

    def search(
        self, query: str, limit: int = 50, *, conversation: str | None = None
    ) -> list[SearchHit]:
        """Messages containing every word of ``query``, newest first.

        Matching ignores case and accents and finds parts of words and URLs. Any user
        input is safe: quotes and FTS operators are taken literally. Words of three
        characters or more use the trigram index; shorter ones (and everything when this
        SQLite has no trigram tokenizer) are matched with ``LIKE``, by a scan.
        """
        # NUL would end the FTS5 query string early (an "unterminated string" error).
        words = fold_accents(query.replace("\x00", " ")).split()
        if not words or limit <= 0:
            return []
        indexed = [w for w in words if len(w) >= 3] if self._fts else []
        scanned = [w for w in words if w not in indexed]
        rows = self._search_rows(indexed, scanned, conversation, limit)
        if indexed:
            # Messages of a backlog not in the index yet (index_pending): a scan of those.
            rows += self._search_rows([], words, conversation, limit, pending=True)
            rows.sort(key=lambda row: row[0], reverse=True)
            del rows[limit:]
        needle = max(words, key=len)
        hits = []
        for row in rows:
            message = _message(row)
            span = _match_span(message.text, needle)
            hits.append(
                SearchHit(
                    local_id=message.local_id,
                    conversation=message.conversation,
                    is_group=message.is_group,
                    direction=message.direction,
                    sender=message.sender,
                    sender_name=message.sender_name,
                    text=message.text,
                    ts=message.ts,
                    seq=message.seq,
                    match_start=None if span is None else span[0],
                    match_end=None if span is None else span[1],
                )
            )
        return hits

    def _search_rows(
        self,
        indexed: list[str],
        scanned: list[str],
        conversation: str | None,
        limit: int,
        *,
        pending: bool = False,
    ) -> list[Any]:
        """Rows of messages matching every word: ``indexed`` ones through the trigram
        index, ``scanned`` ones with ``LIKE``; with ``pending``, among the messages not in
        the index yet only."""
        params: list[object] = []
        where: list[str] = []
        if indexed:
            source = "messages_fts f JOIN messages m ON m.local_id = f.rowid"
            where.append("messages_fts MATCH ?")
            params.append(" AND ".join(_fts_phrase(w) for w in indexed))
            order = "f.rowid DESC"
        else:
            source = "messages m"
            order = "m.local_id DESC"
        if pending:
            where.append("m.local_id IN (SELECT local_id FROM search_pending)")
        for word in scanned:
            where.append("COALESCE(m.search_text, m.text) LIKE ? ESCAPE '\\'")
            params.append(_like_pattern(word))
        if conversation is not None:
            where.append("m.conversation = ?")
            params.append(conversation)
        return self._conn.execute(
            f"SELECT {_M_MESSAGE_COLUMNS} FROM {source} WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT ?",
            (*params, limit),
        ).fetchall()

    def index_pending(self, limit: int = 5000) -> int:
        """Put up to ``limit`` messages stored without being indexed (a backlog, see
        :meth:`~messenger_gui.storage.ClientStore.save_chunk`) in the search index, oldest
        first, in one transaction; returns how many are still waiting (0: all done)."""
        if not self._fts:
            return 0
        with self._write() as conn:
            last = conn.execute(
                "SELECT local_id FROM search_pending ORDER BY local_id LIMIT 1 OFFSET ?",
                (max(0, limit - 1),),
            ).fetchone()
            bound = "" if last is None else "WHERE local_id <= ?"
            params: tuple[int, ...] = () if last is None else (int(last[0]),)
            conn.execute(
                "INSERT INTO messages_fts (rowid, body) SELECT local_id, "
                "COALESCE(search_text, text) FROM messages WHERE local_id IN "
                f"(SELECT local_id FROM search_pending {bound})",
                params,
            )
            conn.execute(f"DELETE FROM search_pending {bound}", params)
            return int(conn.execute("SELECT COUNT(*) FROM search_pending").fetchone()[0])
