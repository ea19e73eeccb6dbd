import os

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from portal import clock

# Property tests: `make test` runs the default profile, `make soak` the soak profile (many more examples).
hypothesis_settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("soak", max_examples=5000, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render without a collectstatic run; test_static.py checks the real manifest build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _english_again():
    """Each test starts in English: a Swedish request activates Swedish in the test's thread, and
    Django leaves it active for the next test's service messages."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _catalog_present(request):
    """The catalog is migration data; a transactional test's flush deletes it, so put it
    back before any test that uses the database (pytest-django runs those tests last)."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db"} & set(request.fixturenames)
    if uses_db:
        from django.apps import apps

        if marker is None:  # asked for by argument: set the database up first
            request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")

        from billing.catalog import catalog_sync

        if not apps.get_model("billing", "Product").objects.exists():
            catalog_sync(**{name: apps.get_model("billing", name)
                            for name in ("ServicePlan", "Product", "Offer", "AddOnProduct")})


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def at_date(db):
    """Set the simulation clock: ``at_date("2026-06-15")``."""
    from datetime import date

    def _set(day):
        clock.set_date(date.fromisoformat(day) if isinstance(day, str) else day)
        return clock.today()

    return _set


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})",
        f"celery broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
    ]


# CI (.ci/run) runs the whole suite on the embedded default (SQLite + Celery's filesystem broker) and, at
# the same time, on PostgreSQL + Redis every test whose outcome can depend on the database or the broker
# (row locks, concurrency, constraints, the workers, hostile inputs, query counts): `-m "not
# backend_agnostic"`. These modules can't tell the two apart, so CI runs them once; named by file or
# folder, they stay marked wherever they move. A new module is not listed: it runs on both.
BACKEND_AGNOSTIC = {
    "browser",  # the pages in Chromium (the worker paths they drive are tested on both by the worker tests)
    "portalctl",  # the HTTP client and its command line
    "test_swedish_sweep.py",  # every page's texts in Swedish
    "test_static_and_i18n.py",  # static files and the catalogs
    "test_make_run.py",  # make run: always SQLite and the filesystem broker
    "test_filesystem_broker.py",  # the embedded broker alone
    "test_sqlite_concurrency.py",  # SQLite alone
    "test_deployment.py",  # docker-compose.yml, parsed
    "test_settings.py",  # each settings module in a fresh process with its own environment
    "test_layers.py",  # imports
    "test_example_receiver.py",  # examples/webhook_receiver.py, a process of its own
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by the mark
def pytest_collection_modifyitems(config, items):
    seen = set()
    for item in items:
        names = BACKEND_AGNOSTIC.intersection(item.path.relative_to(config.rootpath).parts)
        if names:
            item.add_marker(pytest.mark.backend_agnostic)
            seen |= names
    whole_suite = config.args_source is pytest.Config.ArgsSource.TESTPATHS
    if whole_suite and "backend_agnostic" in (config.option.markexpr or "") and BACKEND_AGNOSTIC - seen:
        raise pytest.UsageError(f"tests/conftest.py BACKEND_AGNOSTIC names no test module: {BACKEND_AGNOSTIC - seen}")
