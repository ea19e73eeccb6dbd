"""`make bench`: PostgreSQL + Redis only (the issue's measure), the suite's test settings, and one
results file per run (benchmarks/results/latest.json and latest.md, see ``benchmarks.results``)."""

import pytest
from django.conf import settings

from benchmarks import results
from tests.conftest import _catalog_present, _test_settings  # noqa: F401 - same test settings


def pytest_configure(config):
    results.start()


@pytest.fixture(scope="session", autouse=True)
def _postgres_and_redis(django_db_setup, django_db_blocker):
    """Refuse to measure anything but PostgreSQL + Redis, with what to do about it."""
    from django.db import connection

    vendor = connection.vendor
    broker = settings.CELERY_BROKER_URL
    if vendor != "postgresql" or not broker.startswith("redis"):
        pytest.exit(
            f"make bench measures on PostgreSQL + Redis; this run has {vendor} and {broker.split('://')[0]}. "
            "Start both (e.g. `docker compose up -d postgres redis`) or point DATABASE_URL and "
            "CELERY_BROKER_URL at yours (defaults: postgres://postgres@127.0.0.1:5432/portal_bench and "
            "redis://127.0.0.1:6379/14).", returncode=2)
    with django_db_blocker.unblock():
        results.describe_backend()


def pytest_sessionfinish(session, exitstatus):
    results.finish()
