"""The layering graph → support → simulation | webhooks → planchange → licensing → billing → portal
(DESIGN.md "Integrity", docs/architecture.md). Imports are checked by import-linter (`lint-imports`,
contracts in pyproject.toml, run by CI, and here against a copy with an upward import); this checks
what import-linter can't see: a lower app reaching an upper app's models through the app
registry (``apps.get_model("planchange", …)``) or a string model reference."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["portal", "billing", "licensing", "planchange", "webhooks", "simulation", "support", "graph"]  # each may use only those before it


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


WRITES = {"create", "bulk_create", "update", "delete", "get_or_create", "update_or_create", "bulk_update"}


def manager_writes(path: Path):
    """(line, model name) of every ``Model.objects….<write>(…)`` call in the module."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES):
            continue
        part, through_manager = node.func.value, False
        while isinstance(part, ast.Attribute | ast.Call):
            if isinstance(part, ast.Attribute) and part.attr == "objects":
                through_manager = True
            part = part.value if isinstance(part, ast.Attribute) else part.func
        if through_manager and isinstance(part, ast.Name):
            yield node.lineno, part.id


def test_an_app_writes_only_its_own_tables():
    """Owners write their own tables: an app changes another app's rows only by calling its services."""
    from django.apps import apps

    owner = {model.__name__: model._meta.app_label for model in apps.get_models()}
    found = [f"{path.relative_to(ROOT)}:{line} writes {owner[name]}.{name}"
             for app in LAYERS for path in sources(app) for line, name in manager_writes(path)
             if owner.get(name) in LAYERS and owner[name] != app]
    assert found == []


def test_the_write_check_sees_a_write_around_the_owner(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text("Subscription.objects.filter(pk=1).update(status='cancelled')\n"
                      "LicenseAssignment.objects.bulk_create([])\n")
    assert list(manager_writes(module)) == [(1, "Subscription"), (2, "LicenseAssignment")]


APPS = ["portal", "billing", "licensing", "planchange", "webhooks", "simulation", "support", "graph", "portalctl"]


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    import os
    import sys

    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})


@pytest.mark.slow
def test_lint_imports_keeps_every_contract():
    linted = _lint_imports(ROOT)
    assert linted.returncode == 0 and "0 broken" in linted.stdout, linted.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize(("module", "upward"), [
    ("billing/sneaky.py", "from planchange.models import PlanChange\n"),  # billing reaching the plan change
    ("planchange/sneaky.py", "from support.selectors import support_changes\n"),  # planchange reaching support
    ("planchange/sneaky2.py", "from simulation.days import days_run\n"),  # planchange reaching the simulation
    ("simulation/sneaky.py", "from support.views import console\n"),  # the simulation reaching support
    ("webhooks/sneaky.py", "from simulation.moves import clock_move\n"),  # two apps of one layer
])
def test_lint_imports_refuses_an_upward_import(tmp_path, module, upward):
    """The contracts in pyproject.toml, as CI runs them, on a copy of the apps with one import that goes up."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(upward)
    linted = _lint_imports(tmp_path)
    assert linted.returncode != 0 and "1 broken" in linted.stdout, linted.stdout[-2000:]
