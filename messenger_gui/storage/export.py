"""Exporting a conversation as JSON or as a standalone HTML page."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from messenger_gui.storage.conversations import _conversation_title
from messenger_gui.storage.files import StoredFile, _conversation_files, _local_copy
from messenger_gui.storage.identity import _write_private_file
from messenger_gui.storage.records import (
    ExportFormat,
    StoredMessage,
    is_system_line,
    parse_system_line,
    system_line_text,
)
from messenger_gui.storage.schema import _MESSAGE_COLUMNS, _ORDER_KEY, StoreBase, _message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExportLabels:
    """The words an HTML export uses besides the messages (the app passes translations)."""

    edited: str = "edited"
    deleted: str = "Message deleted"


class ExportMixin(StoreBase):
    """The export of :class:`~messenger_gui.storage.ClientStore`."""

    def _iter_conversation(self, conversation: str) -> Iterator[StoredMessage]:
        cursor = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation = ? "
            f"ORDER BY {_ORDER_KEY}, local_id",
            (conversation,),
        )
        for row in cursor:
            message = _message(row)
            if is_system_line(message):  # "Ana renamed the group to …", in English
                parts = parse_system_line(message.text)
                if parts is not None:
                    message = msgspec.structs.replace(message, text=system_line_text(parts))
            yield message

    def export_conversation(
        self,
        conversation: str,
        fmt: ExportFormat,
        *,
        own_name: str = "Me",
        labels: ExportLabels | None = None,
    ) -> str:
        """The whole conversation as a JSON array of objects, or as a standalone HTML page
        (every text escaped, no scripts). ``own_name`` labels this client's messages;
        ``labels`` are the page's words for edited and deleted messages (translated by the
        caller). Messages show their current text; edits are marked (``edited``).

        Raises:
            ValueError: unknown ``fmt``.
        """
        if fmt == "json":
            return self._export_json(conversation)
        if fmt == "html":
            return self._export_html(conversation, own_name, labels or ExportLabels())
        raise ValueError(f"unknown export format {fmt!r}")

    def export_to_file(
        self,
        conversation: str,
        fmt: ExportFormat,
        path: str | Path,
        *,
        own_name: str = "Me",
        labels: ExportLabels | None = None,
    ) -> None:
        """Write :meth:`export_conversation` to ``path``: readable by the user only (0600,
        like the history it comes from), and atomically (a temporary file renamed over
        ``path``: an existing file is replaced whole or not at all).

        Raises:
            OSError: the file could not be written (nothing is left behind).
            ValueError: unknown ``fmt``.
        """
        text = self.export_conversation(conversation, fmt, own_name=own_name, labels=labels)
        _write_private_file(Path(path), text.encode("utf-8"))

    def _export_json(self, conversation: str) -> str:
        files = _conversation_files(self._conn, conversation)  # issue 10
        items = [
            {
                "local_id": m.local_id,
                "conversation": m.conversation,
                "direction": m.direction,
                "sender": m.sender,
                "sender_name": m.sender_name,
                "text": m.text,
                "ts": m.ts,
                "time": datetime.fromtimestamp(m.ts / 1000, tz=UTC).isoformat(
                    timespec="milliseconds"
                ),
                "seq": m.seq,
                "message_id": m.message_id,
                "status": m.status,
                "edited": m.edited,
                "deleted": m.deleted,
                **(
                    {"reply_to": {"seq": m.reply_seq, "sender": m.reply_sender}}
                    if m.reply_seq is not None
                    else {}
                ),
                **(
                    {"forwarded_from": {"name": m.forwarded_name, "sender": m.forwarded_sender}}
                    if m.forwarded_name is not None
                    else {}
                ),
                **(
                    {"reactions": [{"member": r.member, "emoji": r.emoji} for r in m.reactions]}
                    if m.reactions
                    else {}
                ),
            }
            | (
                {
                    "files": [
                        {
                            "name": f.name,
                            "size": f.size,
                            "mime": f.mime,
                            "sha256": f.sha256,
                            "file": _local_copy(f),
                        }
                        for f in files[m.local_id]
                    ]
                }
                if m.local_id in files and m.deleted is None
                else {}
            )
            for m in self._iter_conversation(conversation)
        ]
        return json.dumps(items, ensure_ascii=False, indent=2)

    def _export_html(self, conversation: str, own_name: str, labels: ExportLabels) -> str:
        title = html.escape(_conversation_title(self._conn, conversation))
        parts = [
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>\n"
            "body{font-family:system-ui,sans-serif;max-width:48em;margin:2em auto;"
            "padding:0 1em;color:#222;background:#fff}\n"
            "@media (prefers-color-scheme:dark){body{color:#ddd;background:#181818}"
            ".msg{background:#2a2a2a}.out{background:#1f3b2c}}\n"
            "ol{list-style:none;padding:0}\n"
            ".msg{background:#f0f0f0;border-radius:.6em;padding:.4em .7em;margin:.4em 0;"
            "max-width:80%}\n"
            ".out{background:#dcf8c6;margin-left:auto}\n"
            ".meta{font-size:.8em;opacity:.7}\n"
            ".text{white-space:pre-wrap;overflow-wrap:anywhere}\n"
            ".files{margin:.2em 0;padding-left:1.2em}\n"
            f"</style>\n</head>\n<body>\n<h1>{title}</h1>\n<ol>\n"
        ]
        files = _conversation_files(self._conn, conversation)  # issue 10
        for m in self._iter_conversation(conversation):
            sender = own_name if m.direction == "out" else (m.sender_name or m.sender or "")
            moment = datetime.fromtimestamp(m.ts / 1000, tz=UTC)
            local = moment.astimezone().strftime("%Y-%m-%d %H:%M")
            mark = f' <span class="edited">{html.escape(labels.edited)}</span>' if m.edited else ""
            text = (
                html.escape(m.text)
                if m.deleted is None
                else f"<i>{html.escape(labels.deleted)}</i>"
            )
            parts.append(
                f'<li class="msg {m.direction}"><div class="meta">'
                f'<span class="sender">{html.escape(sender)}</span> '
                f'<time datetime="{moment.isoformat()}">{local}</time>{mark}</div>'
                f"{_files_html(files.get(m.local_id, []) if m.deleted is None else [])}"
                f'<div class="text">{text}</div></li>\n'
            )
        parts.append("</ol>\n</body>\n</html>\n")
        return "".join(parts)


def _files_html(files: list[StoredFile]) -> str:
    """issue 10: a message's files as a list, each name a link to the copy on this disk
    when there is one (names escaped: they are the sender's)."""
    if not files:
        return ""
    items = []
    for item in files:
        name = html.escape(item.name)
        url = _local_copy(item)
        label = f'<a href="{html.escape(url)}">{name}</a>' if url is not None else name
        items.append(f"<li>📎 {label} ({item.size:,} bytes)</li>")
    return f'<ul class="files">{"".join(items)}</ul>'
