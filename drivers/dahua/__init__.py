"""The Dahua HTTP API (CGI): its ``key=value`` answers (``drivers.dahua.text``), the
expressions a profile reads them with (here: the site file's checks need them), and the
parts of its ``eventManager`` attach stream (``drivers.dahua.events``). The answers and
events are in their own modules because they need the HTTP client (aiohttp), which a
site without HTTP devices never loads."""

from drivers.dahua.fields import FieldExpr, parse_field

__all__ = ["FieldExpr", "parse_field"]
