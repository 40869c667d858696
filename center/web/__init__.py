"""lvgw-center's HTTP side on aiohttp.web: the callbacks a helpdesk automation calls
(`callbacks.py`), served with the house's connection cap and security headers
(gateway/webkit)."""

from center.web.callbacks import callback_app, callback_server

__all__ = ["callback_app", "callback_server"]
