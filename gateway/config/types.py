"""Small value types shared by the configuration models."""

from __future__ import annotations

import ipaddress
import math
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler
from pydantic_core import core_schema

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}

IDENTIFIER = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Strict(BaseModel):
    """A part of the site file or of a profile: unknown keys are errors, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret:
    """A secret value that never prints: repr and str are ``<secret>``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear text, for the one place that sends it on the wire."""
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls._validate,
            core_schema.union_schema(
                [core_schema.is_instance_schema(cls), core_schema.str_schema(min_length=1)]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda _v: "<secret>"),
        )

    @classmethod
    def _validate(cls, value: str | Secret) -> Secret:
        return value if isinstance(value, Secret) else cls(value)


def read_secret_file(path: Path) -> Secret:
    """Read a secret from a file (first line, trailing newline removed)."""
    text = path.read_text(encoding="utf-8")
    return Secret(text.splitlines()[0] if text else "")


def _check_host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        looks_numeric = all(part.isdigit() for part in value.split("."))
        if looks_numeric or not _HOSTNAME.match(value):
            raise ValueError(f"not a valid IP address or host name: {value!r}") from None
    return value


def _parse_duration(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a text like 30s, 5m, 1h")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 1h, 2d)")


def _positive(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


Host = Annotated[str, AfterValidator(_check_host)]
Duration = Annotated[float, BeforeValidator(_parse_duration), AfterValidator(_positive)]


_BYTE_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)?\s*$")
_UNIT_BYTES = {
    None: 1, "B": 1, "kB": 1000, "KB": 1000, "KiB": 1024,
    "MB": 1000**2, "MiB": 1024**2, "GB": 1000**3, "GiB": 1024**3,
}  # fmt: skip


def _parse_byte_size(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes or a text like 512KiB, 4MiB")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _BYTE_SIZE.match(value)
        if match:
            return int(float(match.group(1)) * _UNIT_BYTES[match.group(2)])
    raise ValueError(f"not a size: {value!r} (use e.g. 65536, 512KiB, 4MiB)")


def _positive_int(value: int) -> int:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


ByteSize = Annotated[int, BeforeValidator(_parse_byte_size), AfterValidator(_positive_int)]
