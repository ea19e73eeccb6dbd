"""`make run` installs from uv.lock only what the portal needs (the project's dependencies, not the
dev extra): every package the apps import is among them, and the test and benchmark tools are not."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
TOOLS = {"pytest", "pytest-django", "playwright", "hypothesis", "schemathesis", "locust", "ruff", "import-linter",
         "factory-boy", "polib"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_packages() -> set[str]:
    """The project's dependencies in uv.lock and theirs, with the extras they ask for (celery[redis])."""
    packages = {package["name"]: package for package in LOCK["package"]}
    project = normalized(PYPROJECT["project"]["name"])
    found, todo = set(), list(packages[project]["dependencies"])
    while todo:
        dependency = todo.pop()
        package = packages[dependency["name"]]
        todo += [] if dependency["name"] in found else package.get("dependencies", [])
        found.add(dependency["name"])
        for extra in dependency.get("extra", []):
            todo += package.get("optional-dependencies", {}).get(extra, [])
    return found


def imported_distributions() -> dict[str, str]:
    """Every third-party distribution the apps import (at any depth, in any function): {distribution: module}."""
    apps = PYPROJECT["tool"]["importlinter"]["root_packages"]
    owners = packages_distributions()
    found = {}
    for path in (path for app in apps for path in (ROOT / app).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for top in (module.split(".")[0] for module in modules):
                if top in apps or top in sys.stdlib_module_names:
                    continue
                for distribution in owners.get(top, [top]):
                    found.setdefault(normalized(distribution), f"{path.relative_to(ROOT)}: import {top}")
    return found


def test_the_lock_is_the_one_pyproject_asks_for():
    locked = next(p for p in LOCK["package"] if p["name"] == normalized(PYPROJECT["project"]["name"]))
    asked = {normalized(re.split(r"[\[=<>!~; ]", d, maxsplit=1)[0]) for d in PYPROJECT["project"]["dependencies"]}
    assert {d["name"] for d in locked["dependencies"]} == asked  # else: make lock


def test_everything_the_apps_import_is_installed_by_make_run():
    runtime = runtime_packages()
    missing = {name: where for name, where in imported_distributions().items() if name not in runtime}
    assert missing == {}  # a runtime import of a dev-only package: move it to [project] dependencies


def test_make_run_gets_honcho_and_no_test_or_benchmark_tool():
    runtime = runtime_packages()
    assert "honcho" in runtime and "gunicorn" in runtime
    assert TOOLS & runtime == set()
    assert TOOLS <= {normalized(re.split(r"[\[=<>!~; ]", d, maxsplit=1)[0])
                     for d in PYPROJECT["project"]["optional-dependencies"]["dev"]}
