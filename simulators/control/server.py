"""The control endpoint: a small HTTP/1.1 JSON API on 127.0.0.1 (asyncio streams).

    GET    /health                          {"status": "ok", "devices": N}
    GET    /devices                         [device state, ...]
    GET    /devices/ID                      device state
    GET    /faults                          the faults of each kind, with parameters
    POST   /devices/ID/faults               {"fault": NAME, "params": {...}} -> inject
    DELETE /devices/ID/faults[/NAME]        clear all faults, or those named NAME
                                            (optional JSON body {"params": {...}})

Errors answer ``{"error": message}`` with 400 (bad fault or parameter), 404 (no
such device or path) or 405. One request per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import unquote

from simulators.errors import FaultError, ServeError, UnknownDeviceError
from simulators.runtime import FleetRuntime

log = logging.getLogger("simulators.control")

MAX_HEADER = 16 * 1024
MAX_BODY = 64 * 1024
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 500: "Internal Server Error"}  # fmt: skip


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlServer:
    def __init__(self, runtime: FleetRuntime, host: str, port: int) -> None:
        self.runtime = runtime
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        """Listen; returns the bound address (port 0 picks a free one)."""
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as exc:
            raise ServeError(
                f"cannot open the control endpoint {self.host}:{self.port}: {exc.strerror}"
            ) from exc
        host, port = self._server.sockets[0].getsockname()[:2]
        self.port = port
        return host, port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await self._answer(reader)
            payload = json.dumps(body, indent=1).encode() + b"\n"
            head = (
                f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + payload)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.debug("control connection dropped: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, Any]:
        try:
            method, path, body = await _read_request(reader)
            return 200, self._route(method, path, body)
        except HttpError as exc:
            return exc.status, {"error": str(exc)}
        except UnknownDeviceError as exc:
            return 404, {"error": str(exc)}
        except FaultError as exc:
            return 400, {"error": str(exc)}
        except Exception as exc:  # a bug must not kill the endpoint: answer 500, log it
            log.exception("control request failed")
            return 500, {"error": f"internal error: {exc}"}

    def _route(self, method: str, path: str, body: Any) -> Any:
        parts = [unquote(part) for part in path.split("?")[0].strip("/").split("/") if part]
        runtime = self.runtime
        match parts:
            case ["health"]:
                _allow(method, "GET")
                return {"status": "ok", "devices": len(runtime.models)}
            case ["faults"]:
                _allow(method, "GET")
                return runtime.catalogue()
            case ["devices"]:
                _allow(method, "GET")
                return runtime.states()
            case ["devices", device_id]:
                _allow(method, "GET")
                model = runtime.model(device_id)
                model.refresh()
                return model.state()
            case ["devices", device_id, "faults"] if method == "POST":
                fault = _field(body, "fault", str)
                return runtime.inject(device_id, fault, _params(body))
            case ["devices", device_id, "faults", *name] if method == "DELETE" and len(name) < 2:
                return runtime.clear(device_id, name[0] if name else None, _params(body))
            case ["devices", _, "faults", *_]:
                raise HttpError(405, f"{method} not allowed on {path}")
        raise HttpError(404, f"no such path: {path}")


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise HttpError(405, f"{method} not allowed here (use {allowed})")


def _field(body: Any, name: str, kind: type) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(name), kind):
        raise HttpError(400, f"the JSON body needs a {kind.__name__} field {name!r}")
    return body[name]


def _params(body: Any) -> dict[str, object]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HttpError(400, "the JSON body must be an object")
    params = body.get("params") or {}
    if not isinstance(params, dict) or not all(
        isinstance(value, str | int | float) and not isinstance(value, bool)
        for value in params.values()
    ):
        raise HttpError(400, "params must be an object of strings and numbers")
    return params


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, Any]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise HttpError(413, "request header too large") from exc
    if len(head) > MAX_HEADER:
        raise HttpError(413, "request header too large")
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, path, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise HttpError(400, f"bad request line {lines[0]!r}") from exc
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            if not value.strip().isdigit():
                raise HttpError(400, "bad Content-Length")
            length = int(value.strip())
    if length > MAX_BODY:
        raise HttpError(413, "request body too large")
    if not length:
        return method.upper(), path, None
    raw = await reader.readexactly(length)
    try:
        return method.upper(), path, json.loads(raw)
    except ValueError as exc:
        raise HttpError(400, f"the body is not JSON: {exc}") from exc
