"""Readings -> conditions, by the rules declared in each device's profile."""

from gateway.rules.engine import RuleEngine
from gateway.rules.errors import RuleConfigError, RuleError

__all__ = ["RuleConfigError", "RuleEngine", "RuleError"]
