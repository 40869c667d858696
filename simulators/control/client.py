"""Client of the control endpoint, for ``lvgw-sim list|inject|clear`` (stdlib only)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from simulators.errors import ControlError, FaultError, UnknownDeviceError

DEFAULT_CONTROL = "127.0.0.1:8700"
ENV_CONTROL = "LVGW_SIM_CONTROL"


def control_address(option: str | None) -> str:
    """``--control`` wins, then ``LVGW_SIM_CONTROL``, then 127.0.0.1:8700."""
    return option or os.environ.get(ENV_CONTROL) or DEFAULT_CONTROL


class ControlClient:
    def __init__(self, address: str, timeout: float = 5.0) -> None:
        self.address = address
        self.timeout = timeout

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/health"))

    def devices(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/devices"))

    def faults(self) -> dict[str, Any]:
        return dict(self._call("GET", "/faults"))

    def inject(self, device: str, fault: str, params: dict[str, str]) -> dict[str, Any]:
        path = f"/devices/{quote(device, safe='')}/faults"
        return dict(self._call("POST", path, {"fault": fault, "params": params}))

    def clear(self, device: str, fault: str | None, params: dict[str, str]) -> dict[str, Any]:
        path = f"/devices/{quote(device, safe='')}/faults"
        if fault is not None:
            path += f"/{quote(fault, safe='')}"
        return dict(self._call("DELETE", path, {"params": params} if params else None))

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://{self.address}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            message = _error_message(exc)
            if exc.code == 404:
                raise UnknownDeviceError(message) from exc
            if exc.code in (400, 405, 413):
                raise FaultError(message) from exc
            raise ControlError(f"control endpoint {self.address}: {message}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ControlError(
                f"control endpoint {self.address} not reachable ({reason}); "
                "is `lvgw-sim run` running? (set --control or LVGW_SIM_CONTROL)"
            ) from exc
        except ValueError as exc:
            raise ControlError(f"control endpoint {self.address}: answer is not JSON") from exc


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("error", exc.reason))
    except (ValueError, AttributeError, OSError):
        return f"HTTP {exc.code} {exc.reason}"
