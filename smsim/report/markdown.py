"""The report as Markdown: the same sections as the HTML report, tables and text only.

Charts are left to the HTML report (Markdown viewers disagree on inline SVG); a figure becomes a
one-line note. Cell text is escaped so a scenario string cannot inject markup or break a table.
"""

from __future__ import annotations

import html
from pathlib import Path

from smsim import atomic
from smsim.report.content import Figure, ReportData, Table, Text
from smsim.report.html import _shareable
from smsim.report.sections import build_sections


def md_escape(text: object) -> str:
    """Backslash-escape Markdown table and emphasis characters, then ``<``, ``>`` and ``&`` as entities.

    Each character is escaped once: quotes need no escaping in Markdown, and the three entities
    contain none of the backslash-escaped characters, so ``team's`` stays ``team's``.
    """
    out = str(text).replace("\n", " ")
    for ch in "\\|`*_[]#":
        out = out.replace(ch, "\\" + ch)
    return html.escape(out, quote=False)


def render_markdown(data: ReportData) -> str:
    lines = [f"# {md_escape(data.title)}", ""]
    for section in build_sections(data):
        lines += [f"## {md_escape(section.title)}", ""]
        for block in section.blocks:
            if isinstance(block, Text):
                lines += [md_escape(block.text), ""]
            elif isinstance(block, Figure):
                lines += [f"_Chart: {md_escape(block.caption or section.title)} (see the HTML report)._", ""]
            elif isinstance(block, Table):
                if block.caption:
                    lines += [f"**{md_escape(block.caption)}**", ""]
                lines.append("| " + " | ".join(md_escape(h) for h in block.header) + " |")
                lines.append("|" + "|".join(["---"] + ["---:"] * (len(block.header) - 1)) + "|")
                lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in block.rows]
                lines.append("")
    return "\n".join(lines)


def write_markdown(data: ReportData, path: str | Path, force: bool = False) -> Path:
    """Write the Markdown report atomically (an existing file is replaced only with ``force``)."""
    return _shareable(atomic.write_text(path, render_markdown(data), force=force))
