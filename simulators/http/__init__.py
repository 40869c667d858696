"""The simulated devices' HTTP APIs: Hikvision ISAPI and the Dahua HTTP API, behind
HTTP digest authentication written from RFC 7616, served with aiohttp.web."""
