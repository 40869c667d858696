"""The server side of AMI's line protocol, as Asterisk 22's main/manager.c writes it.

A client's action is ``Key: Value`` lines closed by an empty line; the server answers
``Response: Success|Error`` (with the action's ``ActionID``, and ``EventList: start``
before a list of events), lists close with an event carrying ``EventList: Complete``
and ``ListItems``, and events pushed to the session carry ``Privilege:`` (the event's
class, then ``all``). Lines end in CRLF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Headers = Sequence[tuple[str, str]]
BANNER = "Asterisk Call Manager/11.0.0"  # AMI_VERSION of Asterisk 22 (manager.h)
MAX_ACTION_LINES = 128  # headers Asterisk keeps of one action (AST_MAX_MANHEADERS)


def render(headers: Iterable[tuple[str, str]]) -> bytes:
    """One message: its lines, then the empty line that closes it."""
    return "".join(f"{key}: {value}\r\n" for key, value in headers).encode() + b"\r\n"


def header(action: Headers, name: str) -> str:
    """A header of the client's action, "" when absent (astman_get_header, any case)."""
    wanted = name.lower()
    return next((value for key, value in action if key.lower() == wanted), "")


def _id(action: Headers) -> list[tuple[str, str]]:
    action_id = header(action, "ActionID")
    return [("ActionID", action_id)] if action_id else []


def success(action: Headers, message: str | None, *more: tuple[str, str]) -> bytes:
    """``astman_send_response_full``: Response, ActionID, then Message."""
    lines = [("Response", "Success"), *_id(action)]
    if message is not None:
        lines.append(("Message", message))
    return render([*lines, *more])


def error(action: Headers, message: str) -> bytes:
    return render([("Response", "Error"), *_id(action), ("Message", message)])


def list_start(action: Headers, message: str) -> bytes:
    """``astman_send_listack``: the list's events follow."""
    return render([("Response", "Success"), *_id(action), ("EventList", "start"),
                   ("Message", message)])  # fmt: skip


def list_event(action: Headers, event: str, fields: Iterable[tuple[str, str]]) -> bytes:
    return render([("Event", event), *_id(action), *fields])


def list_complete(action: Headers, event: str, items: int, *more: tuple[str, str]) -> bytes:
    """``astman_send_list_complete``: the event that closes a list."""
    return render([("Event", event), *_id(action), ("EventList", "Complete"),
                   ("ListItems", str(items)), *more])  # fmt: skip


def pushed(event: str, privilege: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """An event as ``__manager_event_sessions`` sends it to a session."""
    return render([("Event", event), ("Privilege", f"{privilege},all"), *fields])
