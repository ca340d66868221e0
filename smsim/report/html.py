"""The report's self-contained HTML form: one file with inline CSS and inline SVG charts (no
script, no network, no fonts). Every string that comes from a scenario or a summary goes through
:func:`html.escape`. What the report contains is :mod:`smsim.report.sections`."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from smsim import atomic
from smsim.report.content import Block, Figure, ReportData, Text
from smsim.report.sections import build_sections

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232a;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
nav{font-size:.85rem;margin:8px 0 16px}nav a{margin-right:12px;color:#0b5cad;text-decoration:none}
.meta{color:#57606a;font-size:.85rem}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.85rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:4px 0;color:#57606a}
th,td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:right;vertical-align:top}
th{background:#f6f8fa}th:first-child,td:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
td.t{text-align:left}.scroll{overflow-x:auto}
figure{margin:8px 0 20px}figure svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#57606a}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _render_block(block: Block) -> str:
    if isinstance(block, Text):
        return f"<p>{_e(block.text)}</p>"
    if isinstance(block, Figure):
        cap = f"<figcaption>{_e(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure>{block.svg}{cap}</figure>"
    head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in block.rows)
    cap = f"<caption>{_e(block.caption)}</caption>" if block.caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(text: str) -> str:
    """Figures align right, words left."""
    numeric = bool(text) and (text[0].isdigit() or text[0] in "$+-[(" or text.endswith("%"))
    return f"<td>{_e(text)}</td>" if numeric else f'<td class="t">{_e(text)}</td>'


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document (inline CSS and SVG; no script, no external URL)."""
    sections = build_sections(data)
    nav = "".join(f'<a href="#{_e(s.id)}">{_e(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{_e(s.id)}"><h2>{_e(s.title)}</h2>' + "".join(_render_block(b) for b in s.blocks) + "</section>"
        for s in sections)
    versions = sorted({str(r.summary.get("smsim_version", "")) for r in data.runs})
    meta = f"{len(data.runs)} run(s); smsim {', '.join(versions)}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{_e(data.title)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>{_e(data.title)}</h1><div class=\"meta\">{_e(meta)}</div><nav>{nav}</nav>{body}"
            "</main></body></html>\n")


def write_html(data: ReportData, path: str | Path, force: bool = False) -> Path:
    """Write the HTML report atomically (an existing file is replaced only with ``force``)."""
    return _shareable(atomic.write_text(path, render_html(data), force=force))


def _shareable(path: Path) -> Path:
    """Reports are meant to be shared: give them the permissions of a normal file (umask)."""
    import os

    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
    return Path(path)
