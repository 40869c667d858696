"""A profile's ``match:`` rules: how `lvgw discover` recognises the devices it is for.

A rule is data in the profile file. Each condition it names must hold:

- ``sys_object_id``: a numeric OID prefix; the device's sysObjectID is that OID or
  lies under it (a vendor's enterprise or product subtree, from the vendor's MIB);
- ``sys_descr``: a regular expression searched in the device's sysDescr;
- ``answers``: numeric OIDs the device must answer with a value (GET), the
  distinctive objects of a MIB module the profile reads (a net-snmp based agent's
  sysObjectID is net-snmp's own, so what it answers is what tells it apart);
- ``isapi_device_type``: a regular expression matched against the whole
  ``deviceType`` of the device's ISAPI ``/ISAPI/System/deviceInfo`` (asked only when
  `lvgw discover` is given an ISAPI login);
- ``ami_version``: a regular expression matched against the whole version in the
  banner of an Asterisk manager interface that took the login (asked only when
  `lvgw discover` is given an AMI account).

Of every profile's rules that match a device, the most specific wins (``specificity``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from gateway.config.protocols.snmp import numeric_oid
from gateway.config.site import DeviceKind
from gateway.config.types import Strict


class MatchRule(Strict):
    """One way to recognise the profile's devices; every condition given must hold."""

    sys_object_id: str | None = None
    sys_descr: str | None = None
    answers: list[str] = Field(default_factory=list, max_length=8)
    isapi_device_type: str | None = None
    ami_version: str | None = None
    kind: DeviceKind | None = None  # needed when the profile is for several kinds
    why: Annotated[str, Field(min_length=1)] | None = None  # where the values come from

    @field_validator("sys_object_id")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        return None if value is None else numeric_oid(value)

    @field_validator("answers")
    @classmethod
    def _oids(cls, values: list[str]) -> list[str]:
        return [numeric_oid(value) for value in values]

    @field_validator("sys_descr", "isapi_device_type", "ami_version")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _something(self) -> MatchRule:
        given = (self.sys_object_id, self.sys_descr, self.isapi_device_type, self.ami_version)
        if all(value is None for value in given) and not self.answers:
            raise ValueError(
                "a match rule needs sys_object_id, sys_descr, answers, isapi_device_type"
                " or ami_version"
            )
        return self

    @property
    def specificity(self) -> tuple[int, int]:
        """How specific the rule is: the arcs of its sysObjectID prefix first (a
        product's OID beats its vendor's enterprise), then how many other conditions
        it names."""
        arcs = len(self.sys_object_id.split(".")) if self.sys_object_id else 0
        others = sum(
            v is not None for v in (self.sys_descr, self.isapi_device_type, self.ami_version)
        )
        return arcs, others + len(self.answers)

    def matches(
        self,
        object_id: str,
        descr: str,
        answered: frozenset[str],
        isapi_type: str | None = None,
        ami_version: str | None = None,
    ) -> bool:
        """Whether a device with this sysObjectID and sysDescr, answering the OIDs in
        ``answered`` (and with this ISAPI deviceType, if asked), is one of the rule's."""
        if self.isapi_device_type is not None and (
            isapi_type is None or re.fullmatch(self.isapi_device_type, isapi_type) is None
        ):
            return False
        if self.ami_version is not None and (
            ami_version is None or re.fullmatch(self.ami_version, ami_version) is None
        ):
            return False
        prefix = self.sys_object_id
        if prefix is not None and object_id != prefix and not object_id.startswith(prefix + "."):
            return False
        if self.sys_descr is not None and re.search(self.sys_descr, descr) is None:
            return False
        return all(oid in answered for oid in self.answers)

    def explain(self) -> str:
        """The conditions, as the draft site file states why a profile was chosen."""
        parts = []
        if self.sys_object_id is not None:
            parts.append(f"sysObjectID under {self.sys_object_id}")
        if self.sys_descr is not None:
            parts.append(f"sysDescr matches /{self.sys_descr}/")
        if self.answers:
            parts.append(f"answers {', '.join(self.answers)}")
        if self.isapi_device_type is not None:
            parts.append(f"ISAPI deviceType matches /{self.isapi_device_type}/")
        if self.ami_version is not None:
            parts.append(f"AMI version matches /{self.ami_version}/")
        return " and ".join(parts)
