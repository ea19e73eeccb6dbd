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
