"""portalctl against a live portal: ``manage.py runserver`` on the test database (one per module)
and, where a change must run, a real Celery worker (tests/worker.py). The CLI runs as a
subprocess with its own config directory, as a user would run it."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.worker import web_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def portal_url(django_db_setup, tmp_path_factory):
    with web_server(tmp_path_factory.mktemp("web") / "web.log") as url:
        yield url


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(tmp_path):
    """``cli("subscriptions", "--json", url=…, token=…)`` runs ``python -m portalctl``; ``url`` and
    ``token`` go to PORTAL_URL / PORTAL_TOKEN. HOME and XDG_CONFIG_HOME are the test's own."""
    home = tmp_path / "home"
    home.mkdir()

    def run(*args, url=None, token=None, timeout=120, **env) -> Run:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        environment.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), COLUMNS="200", **env)
        if url:
            environment["PORTAL_URL"] = url
        if token:
            environment["PORTAL_TOKEN"] = token
        done = subprocess.run([sys.executable, "-m", "portalctl", *map(str, args)], env=environment, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(done.returncode, done.stdout, done.stderr)

    run.config = home / ".config" / "portalctl" / "config.json"
    return run
