import os

import pytest
from django.conf import settings as django_settings
from django.test import TransactionTestCase
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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the test database commits without waiting for the disk (synchronous_commit off for it: every
    connection to it, the workers' and live servers' too). What a transaction sees is unchanged; only the server
    crashing could lose the last commits of a database the run drops. A transactional test's flush is hundreds of
    commits. Set on the test database only: make bench's measures keep production's commits. And a transactional
    test's flush deletes the rows (_flush_by_delete)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        cursor.execute("SET synchronous_commit = off")  # this connection, opened before
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", _flush_by_delete(TransactionTestCase._fixture_teardown))
        yield


def _flush_by_delete(teardown):
    """A transactional test's teardown (Django's flush) on PostgreSQL with a DELETE per table, not one TRUNCATE of
    every table: a test leaves a few rows, and TRUNCATE makes new files for each table and index, slow on a
    loaded machine (a second a test, hundreds of tests). The same rows go; Django's foreign keys there are
    deferrable, checked when the flush's transaction commits. Only the tests' own flush: the portal's (reset_demo)
    keeps TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        # The table names are the models', quoted: no input reaches this SQL.
        return ["SET CONSTRAINTS ALL DEFERRED;", *(f"DELETE FROM {self.quote_name(table)};" for table in tables)]  # noqa: S608

    def deleting_teardown(self):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
            teardown(self)

    return deleting_teardown


@pytest.fixture(autouse=True)
def _english_again():
    """Each test starts in English: a Swedish request activates Swedish in the test's thread, and
    Django leaves it active for the next test's service messages."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


CATALOG_MODELS = ("ServicePlan", "MicrosoftServicePlan", "Product", "Offer", "AddOnProduct")
_catalog_rows: list = []  # (model, its rows) as catalog_sync first put them back, in an order to insert them


def _catalog_put_back() -> None:
    """catalog_sync the first time (its update_or_create per row: a thousand statements), then the same rows, with
    the same keys, in one insert per table."""
    from django.apps import apps
    from django.db import transaction

    from billing.catalog import catalog_sync

    if _catalog_rows:
        with transaction.atomic():
            for model, rows in _catalog_rows:
                model.objects.bulk_create(rows)
        return
    models = {name: apps.get_model("billing", name) for name in CATALOG_MODELS}
    catalog_sync(**models)
    product = models["Product"]
    order = [models["ServicePlan"], models["MicrosoftServicePlan"], product, product.service_plans.through,
             product.microsoft_plans.through, models["Offer"], models["AddOnProduct"]]
    _catalog_rows.extend((model, list(model.objects.order_by("pk"))) for model in order)


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

        if not apps.get_model("billing", "Product").objects.exists():
            _catalog_put_back()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff(client, db):
    """Support staff signed in to the pages (``client``)."""
    from tests.factories import LoginFactory

    user = LoginFactory(is_staff=True, username="support@portal.local")
    client.force_login(user)
    return user


@pytest.fixture
def support_api(db):
    """An API client with a support staff login's token."""
    from tests.factories import LoginFactory, token_for

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(LoginFactory(is_staff=True))}")
    return client


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


# CI (.ci/run) runs the suite in two lanes at once: `--lane sqlite` on the embedded default (SQLite + Celery's
# filesystem broker) and `--lane postgres` on PostgreSQL + Redis. A test runs in both, but these run once, in
# the lane named: their outcome can't depend on the database or broker (or, for the property test and the 730
# moves of a day, it is production's database that counts), and where they run keeps the lanes about as long. Named by file or
# folder, wherever they move, by one test of a file ("file.py::test_name") or one case of it ("file.py::test_name[id]");
# a new module runs in both. Without --lane (make test) everything runs.
RUN_ONCE = {
    "browser": "sqlite",  # the pages in Chromium (the worker paths they drive run in both: test_worker_e2e.py)
    "portalctl": "sqlite",  # the HTTP client and its command line
    "test_swedish_sweep.py": "sqlite",  # every page's texts in Swedish (axe sees their layouts in the browser tests)
    "test_make_run.py": "sqlite",  # make run: always SQLite and the filesystem broker
    "test_filesystem_broker.py": "sqlite",  # the embedded broker alone
    "test_sqlite_concurrency.py": "sqlite",  # SQLite alone
    "test_settings.py": "sqlite",  # each settings module in a fresh process with its own environment
    "test_deployment.py": "sqlite",  # docker-compose.yml, parsed
    "test_layers.py": "sqlite",  # imports
    "test_example_receiver.py": "sqlite",  # examples/webhook_receiver.py, a process of its own
    "test_static_and_i18n.py": "sqlite",  # static files and the catalogs
    "test_stateful.py": "postgres",  # any order of events, on production's database (make soak: on any)
    # two years in one move and in 730 moves of a day, the same world after: on production's database
    "test_time_passes.py::test_a_jump_of_two_years_equals_730_jumps_of_a_day": "postgres",
    # axe over the pages, in English and in Swedish (two halves, each a case of its own: either can go to the
    # other lane when the lanes' times drift apart), goes with the browser tests: the PostgreSQL lane with the
    # property test and the 730 moves is the longer one without them (.ci/run's lane totals). Since 2026-12-08 the
    # SQLite lane was the longer by 30 to 70 s in four runs: the Swedish sweep's second half runs in the other.
    "test_accessibility.py::test_no_page_in_swedish_has_a_serious_or_critical_violation[scenarios-2nd-half-and-support]":
        "postgres",
}
LANE_VENDOR = {"sqlite": "sqlite", "postgres": "postgresql"}


def pytest_addoption(parser):
    parser.addoption("--lane", choices=sorted(LANE_VENDOR),
                     help="a CI lane: leave out what runs once in the other lane (tests/conftest.py RUN_ONCE)")


def pytest_collection_modifyitems(config, items):
    lane = config.getoption("lane")
    if lane is None:
        return
    from django.db import connection

    if connection.vendor != LANE_VENDOR[lane]:
        raise pytest.UsageError(f"--lane {lane} runs on {LANE_VENDOR[lane]}, not {connection.vendor}: see DATABASE_URL")
    kept, left_out, seen = [], [], set()
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        callspec = getattr(item, "callspec", None)
        # The most particular name decides: one case of a parametrized test ("file.py::test_name[id]"), a case of
        # every test of a file ("file.py[id]"), a test ("file.py::test_name"), then its file, then a folder.
        candidates = [*parts, f"{item.path.name}::{item.originalname}",
                      *([f"{item.path.name}[{callspec.id}]", f"{item.path.name}::{item.name}"] if callspec else [])]
        names = [name for name in candidates if name in RUN_ONCE]
        seen |= set(names)
        (left_out if names and RUN_ONCE[names[-1]] != lane else kept).append(item)
    if config.args_source is pytest.Config.ArgsSource.TESTPATHS and RUN_ONCE.keys() - seen:
        raise pytest.UsageError(f"tests/conftest.py RUN_ONCE names no test module: {RUN_ONCE.keys() - seen}")
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
