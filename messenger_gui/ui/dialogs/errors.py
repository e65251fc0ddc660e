"""User-facing wording of the errors the client core raises."""

from __future__ import annotations

import ssl

from PySide6.QtCore import QCoreApplication

from messenger_server.protocol import ErrorCode


def describe_code(code: str) -> str | None:
    """One translated sentence for a protocol error ``code`` (or one of the client core's
    own codes: ``not_connected``, ``certificate_untrusted``, ``certificate_mismatch``), or
    ``None`` when there is no wording for it."""
    known = {
        "not_connected": QCoreApplication.translate(
            "Errors", "You are offline. Try again when Messenger is connected."
        ),
        ErrorCode.UNKNOWN_CLIENT: QCoreApplication.translate(
            "Errors", "There is no one with this ID on the server."
        ),
        ErrorCode.REGISTRATION_CLOSED: QCoreApplication.translate(
            "Errors", "This server does not accept new registrations."
        ),
        ErrorCode.NAME_TOO_LONG: QCoreApplication.translate("Errors", "The name is too long."),
        ErrorCode.TEXT_TOO_LARGE: QCoreApplication.translate(
            "Errors", "The message is longer than this server accepts."
        ),
        ErrorCode.INVALID_FIELD: QCoreApplication.translate(
            "Errors", "The server did not accept this value."
        ),
        ErrorCode.NOT_ADMIN: QCoreApplication.translate("Errors", "Only group admins can do this."),
        ErrorCode.NOT_A_MEMBER: QCoreApplication.translate(
            "Errors", "You are not a member of this group any more."
        ),
        ErrorCode.LAST_ADMIN: QCoreApplication.translate(
            "Errors", "A group needs an admin: make someone else admin first."
        ),
        ErrorCode.ALREADY_A_MEMBER: QCoreApplication.translate(
            "Errors", "This person is already in the group."
        ),
        ErrorCode.GROUP_FULL: QCoreApplication.translate("Errors", "The group is full."),
        ErrorCode.EDIT_EXPIRED: QCoreApplication.translate(
            "Errors",
            "It is too late to edit this message: the server allows edits only for a while "
            "after sending.",
        ),
        ErrorCode.NOT_AUTHOR: QCoreApplication.translate(
            "Errors", "Only the author of this message can do this."
        ),
        ErrorCode.UNKNOWN_MESSAGE: QCoreApplication.translate(
            "Errors", "The server no longer knows this message (it is too old)."
        ),
        ErrorCode.MESSAGE_DELETED: QCoreApplication.translate(
            "Errors", "This message was deleted."
        ),
        ErrorCode.UNKNOWN_GROUP: QCoreApplication.translate(
            "Errors", "This group does not exist any more."
        ),
        ErrorCode.RATE_LIMITED: QCoreApplication.translate(
            "Errors", "Too many requests. Wait a moment and try again."
        ),
        ErrorCode.TIMEOUT: QCoreApplication.translate(
            "Errors", "The server did not answer in time."
        ),
        ErrorCode.SHUTTING_DOWN: QCoreApplication.translate(
            "Errors", "The server is restarting. Try again in a moment."
        ),
        ErrorCode.INVALID_CREDENTIALS: QCoreApplication.translate(
            "Errors", "The server refused this identity."
        ),
        ErrorCode.CLIENT_DISABLED: QCoreApplication.translate(
            "Errors", "This identity was disabled by the administrator."
        ),
        ErrorCode.BAD_FRAME: QCoreApplication.translate(
            "Errors", "The server did not understand the app. Update Messenger."
        ),
        ErrorCode.FRAME_TOO_LARGE: QCoreApplication.translate(
            "Errors", "This was too large to send to the server."
        ),
        ErrorCode.UNSUPPORTED_VERSION: QCoreApplication.translate(
            "Errors", "This server needs another version of Messenger. Update the app."
        ),
        ErrorCode.HELLO_REQUIRED: QCoreApplication.translate(
            "Errors", "The server did not understand the app. Update Messenger."
        ),
        ErrorCode.NOT_AUTHENTICATED: QCoreApplication.translate(
            "Errors", "You are not signed in yet. Try again in a moment."
        ),
        ErrorCode.ALREADY_AUTHENTICATED: QCoreApplication.translate(
            "Errors", "You are already signed in on this connection."
        ),
        ErrorCode.INVITE_REQUIRED: QCoreApplication.translate(
            "Errors",
            "This server only accepts new people with an invite code. Ask its administrator "
            "for one.",
        ),
        ErrorCode.INVALID_INVITE: QCoreApplication.translate(
            "Errors",
            "This invite code is not valid: it may be mistyped, used up or expired. Check it "
            "or ask the administrator for a new one.",
        ),
        ErrorCode.TOO_MANY_CONNECTIONS: QCoreApplication.translate(
            "Errors",
            "Too many connections from your network to this server. Messenger tries again "
            "in a moment.",
        ),
        ErrorCode.TOO_MANY_GROUPS: QCoreApplication.translate(
            "Errors", "You or someone you chose is already in as many groups as this server allows."
        ),
        ErrorCode.NOT_A_CONTACT: QCoreApplication.translate(
            "Errors",
            "Someone you chose has not added you as a contact. They must add you before you "
            "can put them in a group.",
        ),
        ErrorCode.RECIPIENT_FULL: QCoreApplication.translate(
            "Errors",
            "Too many messages are waiting for this person on the server. Yours is sent when "
            "they have caught up.",
        ),
        ErrorCode.QUOTA_EXCEEDED: QCoreApplication.translate(
            "Errors",
            "Too many of your messages are waiting on the server for their recipients. They "
            "are sent when those have caught up.",
        ),
        ErrorCode.STORAGE_FULL: QCoreApplication.translate(
            "Errors",
            "The server is running out of disk space. Messages wait here and are sent when "
            "it has room again.",
        ),
        ErrorCode.FILE_TOO_LARGE: QCoreApplication.translate(
            "Errors", "This file is larger than the server accepts."
        ),
        ErrorCode.TOO_MANY_TRANSFERS: QCoreApplication.translate(
            "Errors", "Too many files are being sent at once. Messenger goes on when one ends."
        ),
        ErrorCode.UPLOAD_INCOMPLETE: QCoreApplication.translate(
            "Errors", "The file did not reach the server whole. Messenger sends the rest."
        ),
        ErrorCode.HASH_MISMATCH: QCoreApplication.translate(
            "Errors", "The file changed while it was being sent. Send it again."
        ),
        ErrorCode.NOT_FOUND: QCoreApplication.translate(
            "Errors", "This file is no longer on the server: everyone had it, or it expired."
        ),
        ErrorCode.SESSION_REPLACED: QCoreApplication.translate(
            "Errors", "This identity signed in from another place, so this app was disconnected."
        ),
        ErrorCode.SLOW_CONSUMER: QCoreApplication.translate(
            "Errors", "The connection was too slow, so the server closed it. Messenger reconnects."
        ),
        ErrorCode.INTERNAL_ERROR: QCoreApplication.translate(
            "Errors", "The server had a problem. Try again in a moment."
        ),
        "certificate_untrusted": QCoreApplication.translate(
            "Errors", "The server's certificate is not trusted. Ask its administrator."
        ),
        "certificate_mismatch": QCoreApplication.translate(
            "Errors",
            "The server's certificate changed since the first connection. Ask its "
            "administrator before connecting again.",
        ),
    }
    return known.get(code)


def describe_error(error: BaseException, *, connecting: bool = False) -> str:
    """One translated sentence for ``error``, fit for a dialog's error line.

    ``RequestError`` from the client core carries a protocol error ``code``; connection
    problems arrive as ``OSError`` or ``TimeoutError``; a local refusal as ``ValueError``
    (its text is shown as it is, it is ours). With ``connecting`` (registering), "not
    connected" means the server could not be reached rather than that the app is offline.
    """
    code = getattr(error, "code", None)
    if connecting and code == "not_connected":
        return QCoreApplication.translate(
            "Errors", "Cannot reach the server. Check the address and that the server is running."
        )
    if isinstance(code, str):
        described = describe_code(code)
        if described is not None:
            return described
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return QCoreApplication.translate(
            "Errors",
            "The secure connection failed. Check whether this server uses TLS "
            "and that its certificate is trusted.",
        )
    if isinstance(error, TimeoutError):
        return QCoreApplication.translate("Errors", "The server did not answer in time.")
    if isinstance(error, ConnectionError | OSError):
        return QCoreApplication.translate(
            "Errors", "Cannot reach the server. Check the address and that the server is running."
        )
    if isinstance(error, ValueError):
        return str(error)
    return QCoreApplication.translate("Errors", "Something went wrong: %1").replace(
        "%1", str(error) or type(error).__name__
    )
