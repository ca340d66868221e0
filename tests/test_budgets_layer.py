"""Budgets sit below the scenario model (which imports ``budgets.spec``): nothing in
``smsim/budgets/`` may import the scenario loader or the layers that run scenarios, or the
imports would run in a circle. Reading scenarios and budget files is ``smsim.api``'s."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ABOVE = ("smsim.scenario", "smsim.run", "smsim.api", "smsim.project", "smsim.cli")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (at the top or inside a function), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def test_budgets_import_nothing_above_them():
    offenders = [f"{path.relative_to(REPO)}:{line}: {name}"
                 for path in sorted((REPO / "smsim" / "budgets").rglob("*.py"))
                 for line, name in _imports(path)
                 if any(name == m or name.startswith(m + ".") for m in ABOVE)]
    assert offenders == []


def test_the_guard_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from smsim.scenario.load import load_model\n")
    assert (2, "smsim.scenario.load") in _imports(module)
