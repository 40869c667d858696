"""Readings -> conditions, by the rules declared in each device's profile."""

from gateway.rules.engine import RuleEngine

__all__ = ["RuleEngine"]
