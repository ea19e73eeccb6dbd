"""Files stay small enough to read at once (STYLE.md 18): no app module over 400 lines, no function over 50
(ruff's C901 at 12 is in pyproject.toml), migrations and tests aside."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["portal", "billing", "licensing", "planchange", "webhooks", "simulation", "support", "portalctl"]
MODULE_LINES, FUNCTION_LINES = 400, 50


def app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def long_functions(path: Path, limit: int = FUNCTION_LINES):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > limit:
            yield node.lineno, node.name, node.end_lineno - node.lineno + 1


@pytest.mark.parametrize("app", APPS)
def test_no_module_of_an_app_is_over_400_lines(app):
    long = {str(p.relative_to(ROOT)): n for p in app_modules() if p.parts[len(ROOT.parts)] == app
            and (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert long == {}


@pytest.mark.parametrize("app", APPS)
def test_no_function_of_an_app_is_over_50_lines(app):
    long = [f"{p.relative_to(ROOT)}:{line} {name} ({n} lines)" for p in app_modules()
            if p.parts[len(ROOT.parts)] == app for line, name, n in long_functions(p)]
    assert long == []


def test_the_check_sees_a_long_function(tmp_path):
    module = tmp_path / "long.py"
    module.write_text("def f():\n" + "    x = 1\n" * 60)
    assert list(long_functions(module)) == [(1, "f", 61)]
