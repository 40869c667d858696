"""The pre-visit report as JSON: the report's data (gateway/views/report/model.py) as
one object, for a program (the service center) to lay out itself."""

from __future__ import annotations

import dataclasses
import json

from gateway.views.report.model import Report


def render_json(report: Report) -> str:
    """``Report`` as a JSON object (tuples as arrays, the site rows as [label, value])."""
    return json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=1) + "\n"
