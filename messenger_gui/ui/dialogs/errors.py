"""User-facing wording of the errors the client core raises."""

from __future__ import annotations

import ssl

from PySide6.QtCore import QCoreApplication

from messenger_server.protocol import ErrorCode


def _tr(text: str) -> str:
    return QCoreApplication.translate("Errors", text)


def describe_error(error: BaseException, *, connecting: bool = False) -> str:
    """One translated sentence for ``error``, fit for a dialog's error line.

    ``RequestError`` from the client core carries a protocol error ``code``; connection
    problems arrive as ``OSError`` or ``TimeoutError``; a local refusal as ``ValueError``
    (its text is shown as it is, it is ours). With ``connecting`` (registering), "not
    connected" means the server could not be reached rather than that the app is offline.
    """
    code = getattr(error, "code", None)
    if connecting and code == "not_connected":
        return _tr("Cannot reach the server. Check the address and that the server is running.")
    if isinstance(code, str):
        known = {
            "not_connected": _tr("You are offline. Try again when Messenger is connected."),
            ErrorCode.UNKNOWN_CLIENT: _tr("There is no one with this ID on the server."),
            ErrorCode.REGISTRATION_CLOSED: _tr("This server does not accept new registrations."),
            ErrorCode.NAME_TOO_LONG: _tr("The name is too long."),
            ErrorCode.INVALID_FIELD: _tr("The server did not accept this value."),
            ErrorCode.NOT_ADMIN: _tr("Only group admins can do this."),
            ErrorCode.NOT_A_MEMBER: _tr("You are not a member of this group any more."),
            ErrorCode.ALREADY_A_MEMBER: _tr("This person is already in the group."),
            ErrorCode.GROUP_FULL: _tr("The group is full."),
            ErrorCode.UNKNOWN_GROUP: _tr("This group does not exist any more."),
            ErrorCode.RATE_LIMITED: _tr("Too many requests. Wait a moment and try again."),
            ErrorCode.TIMEOUT: _tr("The server did not answer in time."),
            ErrorCode.SHUTTING_DOWN: _tr("The server is restarting. Try again in a moment."),
            ErrorCode.INVALID_CREDENTIALS: _tr("The server refused this identity."),
            ErrorCode.CLIENT_DISABLED: _tr("This identity was disabled by the administrator."),
            "certificate_untrusted": _tr(
                "The server's certificate is not trusted. Ask its administrator."
            ),
            "certificate_mismatch": _tr(
                "The server's certificate changed since the first connection. Ask its "
                "administrator before connecting again."
            ),
        }
        if code in known:
            return known[code]
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return _tr(
            "The secure connection failed. Check whether this server uses TLS "
            "and that its certificate is trusted."
        )
    if isinstance(error, TimeoutError):
        return _tr("The server did not answer in time.")
    if isinstance(error, ConnectionError | OSError):
        return _tr("Cannot reach the server. Check the address and that the server is running.")
    if isinstance(error, ValueError):
        return str(error)
    return _tr("Something went wrong: %1").replace("%1", str(error) or type(error).__name__)
