"""Which profile a device is: the most specific ``match:`` rule of every profile wins.

A tie between profiles, or no rule at all, leaves the device unclassified: the draft
lists it with what it said about itself and never guesses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.config.match import MatchRule
from gateway.config.profile import Profile


@dataclass(frozen=True, slots=True)
class Identity:
    """What a device said about itself (SNMPv2-MIB system group) and which of the
    profiles' ``answers`` OIDs it answered."""

    object_id: str
    descr: str
    name: str
    answered: frozenset[str] = frozenset()
    isapi_type: str | None = None  # deviceType of /ISAPI/System/deviceInfo, if asked
    ami_version: str | None = None  # the AMI banner's version, if asked and logged in


@dataclass(frozen=True, slots=True)
class Chosen:
    profile: str
    kind: str
    rule: MatchRule
    protocols: tuple[str, ...] = ("snmp",)  # what the profile reads the device over

    @property
    def why(self) -> str:
        note = f" ({self.rule.why})" if self.rule.why else ""
        return f"profile {self.profile}: {self.rule.explain()}{note}"


@dataclass(frozen=True, slots=True)
class Unclassified:
    reason: str


def answer_oids(profiles: Mapping[str, Profile]) -> list[str]:
    """Every OID some profile's rule asks a device to answer, in a stable order."""
    oids = {oid for p in profiles.values() for rule in p.match for oid in rule.answers}
    return sorted(oids)


def classify(profiles: Mapping[str, Profile], identity: Identity) -> Chosen | Unclassified:
    best: dict[str, tuple[tuple[int, int], MatchRule]] = {}
    for name, profile in profiles.items():
        for rule in profile.match:
            fits = rule.matches(
                identity.object_id,
                identity.descr,
                identity.answered,
                identity.isapi_type,
                identity.ami_version,
            )
            if fits and (name not in best or rule.specificity > best[name][0]):
                best[name] = (rule.specificity, rule)
    if not best:
        return Unclassified("no profile's match rule fits")
    top = max(score for score, _ in best.values())
    winners = sorted(name for name, (score, _) in best.items() if score == top)
    if len(winners) > 1:
        return Unclassified(f"as specific a match for profiles {', '.join(winners)}: not guessed")
    name = winners[0]
    rule = best[name][1]
    profile = profiles[name]
    return Chosen(name, profile.match_kind(rule).value, rule, profile.protocols)
