"""Settings for the pytest suite (``DJANGO_SETTINGS_MODULE`` in pyproject.toml).

The SQLite test database and the filesystem broker live in ``var/test/``, so a worker of
``make run`` never takes a test's message (nor a test worker a real one). It is put in
the environment, not only in ``VAR_DIR``, so that the processes the tests start (Celery
workers in tests/worker.py, ``manage.py`` runs) inherit it with DJANGO_SETTINGS_MODULE.
"""

import os
from pathlib import Path

os.environ.setdefault("PORTAL_VAR_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test"))

from .base import *  # noqa: E402, F403
from .base import REST_FRAMEWORK, env  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key-not-secret-8f0c2d7e4b1a96350e7d4c2b1a0f9e8d7c6b5a4f3e2d1c0b"

# High enough that no test trips them by accident; tests of the throttles set their own.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute", "token_failures": "100000/minute"},
}

# The suite starts no worker unless a test does (tests/worker.py): a request runs its move at once.
CLOCK_MOVE_CLAIM_WAIT = 0.0
# A move's statistics check (simulation.days) depends on what earlier tests left in the tables: off, so a move's
# statements are the same whatever ran before (tests/planchange/test_busy_days.py pins them); the tests of the
# check and the benchmarks turn it on.
CLOCK_STATISTICS_HAPPENINGS = 0

# One process serves the tests' requests and makes their changes: it keeps what the API keeps in production
# (portal/generation.py); the processes a test starts (tests/worker.py) keep nothing, as their local-memory
# caches can't hear of the test's changes.
PORTAL_API_KEEP = env.bool("PORTAL_API_KEEP", default=True)
