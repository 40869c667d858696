"""Exceptions of proactive maintenance.

ProactiveError              a proactive job could not do its work
└── ProactiveStateError     its memory (proactive.db) cannot be read or written
"""

from __future__ import annotations


class ProactiveError(Exception):
    """A proactive job could not do its work; it runs again at its next time."""


class ProactiveStateError(ProactiveError):
    """``proactive.db`` cannot be read or written; jobs do not run without it."""
