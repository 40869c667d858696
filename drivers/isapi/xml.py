"""ISAPI's XML, parsed without entity expansion, namespaces set aside.

The parser is defusedxml's ElementTree (``forbid_dtd``): the standard library's
expat expands internal entities, so a device (or anything answering in its place)
could send a "billion laughs" document that grows to gigabytes; defusedxml refuses
any DTD, entity declaration or external reference before anything is expanded. A
document is already bounded in bytes by the HTTP client.

ISAPI documents carry a default namespace that depends on the firmware and the OEM
(``http://www.hikvision.com/ver20/XMLSchema``, ``http://www.std-cgi.com/ver20/XMLSchema``,
or none): elements are looked up by their local name, as every peer client does.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from drivers.http.client import HttpContentError


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_xml(body: bytes) -> Element:
    """The document's root with every tag reduced to its local name, or HttpContentError
    (an HTML error page, malformed XML, a DTD or an entity)."""
    head = body.lstrip()[:200].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise HttpContentError("an HTML page where ISAPI XML was expected")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise HttpContentError(f"XML refused: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise HttpContentError(f"malformed XML: {exc}") from exc
    for element in root.iter():
        element.tag = _local(element.tag)
    return root


def rows(root: Element, name: str) -> list[Element]:
    """Every element called ``name`` in the document (the rows of a list)."""
    return list(root.iter(name))


def child_text(element: Element, path: str) -> str | None:
    """The text of the descendant at ``path`` (local names separated by ``/``; ``.`` is
    the element itself), stripped; None when it is absent."""
    found = element if path == "." else element.find(path)
    if found is None:
        return None
    return (found.text or "").strip()


@dataclass(frozen=True, slots=True)
class EventAlert:
    """One ``EventNotificationAlert`` of the alertStream."""

    event_type: str  # e.g. "videoloss", "diskerror", "illaccess"
    state: str  # "active" or "inactive" (heartbeats are videoloss inactive)
    channel: str  # the channel it is about, "" for the device itself
    description: str


def event_alert(body: bytes) -> EventAlert | None:
    """The alert in one part of the stream; None when the part is no alert."""
    root = parse_xml(body)
    if root.tag != "EventNotificationAlert":
        return None
    channel = ""
    for name in ("channelID", "dynChannelID", "inputIOPortID", "dynInputIOPortID"):
        text = child_text(root, name)
        if text:
            channel = text
            break
    return EventAlert(
        event_type=(child_text(root, "eventType") or "").lower(),
        state=(child_text(root, "eventState") or "active").lower(),
        channel=channel,
        description=child_text(root, "eventDescription") or "",
    )
