"""Proactive maintenance: inspections on schedule, the contract expiry notice, trend
forecasts that open tickets before a fault, and a daily health digest (docs/proactive.md)."""
