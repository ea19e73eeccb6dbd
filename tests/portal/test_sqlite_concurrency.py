"""The embedded default shares one SQLite file between the web server and the worker:
concurrent read-then-write transactions wait their turn instead of failing with
"database is locked" (WAL + IMMEDIATE transactions + busy timeout)."""

import threading

import pytest
from django.db import connection, connections, transaction

from billing.models import Subscription
from tests.factories import SubscriptionFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_read_then_write_transactions_all_succeed():
    sub = SubscriptionFactory(licenses=0)
    threads, errors, rounds = 6, [], 25

    def work():
        try:
            for _ in range(rounds):
                with transaction.atomic():
                    # select_for_update is a no-op on SQLite; the IMMEDIATE transaction
                    # is what serializes writers there (PostgreSQL takes the row lock).
                    current = Subscription.objects.select_for_update().get(pk=sub.pk).licenses
                    Subscription.objects.filter(pk=sub.pk).update(licenses=current + 1)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    sub.refresh_from_db()
    assert sub.licenses == threads * rounds  # no lost update


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 20000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
