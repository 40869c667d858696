"""Pieces every HTTP surface of the project shares, on aiohttp.web.

- `server.WebServer`: an application on a TCP address with a cap on open connections
  and a deadline for the first request head;
- `guards`: read-only methods, the security headers, same-site redirect targets;
- `sessions.SessionStore`: random session values with an expiry, kept server-side.

A leaf of the house: it imports aiohttp and the standard library only, nothing from
`gateway`, so the status page (`gateway/views/`) and a web app of the service center
can both build on it.
"""
