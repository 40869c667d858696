"""Conditions -> ticket events, with the clocks of the service rules."""

from gateway.tickets.book import Decision, TicketBook
from gateway.tickets.clocks import ServiceClocks
from gateway.tickets.wire import SCHEMA_ID, event_payload

__all__ = ["SCHEMA_ID", "Decision", "ServiceClocks", "TicketBook", "event_payload"]
