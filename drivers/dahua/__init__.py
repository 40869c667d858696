"""The Dahua HTTP API (CGI): its ``key=value`` answers, the expressions a profile
reads them with, and the parts of its ``eventManager`` attach stream."""

from drivers.dahua.events import DahuaEvent, event_of
from drivers.dahua.fields import FieldExpr, parse_field
from drivers.dahua.text import DahuaErrorAnswer, parse_key_values

__all__ = [
    "DahuaErrorAnswer",
    "DahuaEvent",
    "FieldExpr",
    "event_of",
    "parse_field",
    "parse_key_values",
]
