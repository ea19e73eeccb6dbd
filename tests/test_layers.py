"""The layering planchange → licensing → billing → portal (DESIGN.md "Integrity"). Imports are
checked by import-linter (`lint-imports`, contracts in pyproject.toml, run by CI); this checks
what import-linter can't see: a lower app reaching an upper app's models through the app
registry (``apps.get_model("planchange", …)``) or a string model reference."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["portal", "billing", "licensing", "planchange"]  # each may use only those before it


def sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def upper_apps(app: str) -> set[str]:
    return set(LAYERS[LAYERS.index(app) + 1:])


def references(path: Path):
    """(line, app label) of every get_model("label", …) call and "label.Model" string in the module."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_model":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value.split(".")[0]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.count(".") == 1:
            label, _dot, model = node.value.partition(".")
            if label in LAYERS and model[:1].isupper():
                yield node.lineno, label


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_a_lower_app_never_reaches_an_upper_apps_models(app):
    found = [f"{path.relative_to(ROOT)}:{line} reaches {label}"
             for path in sources(app) for line, label in references(path) if label in upper_apps(app)]
    assert found == []


def test_the_check_sees_a_reference_through_the_app_registry(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text('from django.apps import apps\nPlanChange = apps.get_model("planchange", "PlanChange")\n'
                      'fk = "licensing.LicenseAssignment"\n')
    assert list(references(module)) == [(2, "planchange"), (3, "licensing")]
