"""Hikvision ISAPI: its XML documents read safely, its alertStream's notifications."""

from drivers.isapi.xml import EventAlert, child_text, event_alert, parse_xml, rows

__all__ = ["EventAlert", "child_text", "event_alert", "parse_xml", "rows"]
