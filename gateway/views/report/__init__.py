"""`lvgw report`: the pre-visit report (docs/report.md)."""

from gateway.views.report.gather import Sources, build_report
from gateway.views.report.html import render_html
from gateway.views.report.jsondoc import render_json
from gateway.views.report.markdown import render_markdown

__all__ = ["Sources", "build_report", "render_html", "render_json", "render_markdown"]
