"""``portal.postgresql``: a kept connection's health check (CONN_HEALTH_CHECKS, before each request's and each task's
first statement) asks the server nothing while the connection has nothing to read, and a connection the server ended
is still replaced before it is used (tests/portal/test_worker_connection.py: a worker's, between two tasks)."""

import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgreSQL

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's backend")]


@pytest.fixture
def selects(monkeypatch):
    """Each SELECT 1 Django's check sends (its is_usable), counted."""
    sent = []
    real = DjangoPostgreSQL.is_usable
    monkeypatch.setattr(DjangoPostgreSQL, "is_usable", lambda self: sent.append(self.alias) or real(self))
    return sent


def checked() -> None:
    """What a request's first statement does after request_started (close_old_connections)."""
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_engine_is_the_portal_s():
    assert connection.settings_dict["ENGINE"] == "portal.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_live_connection_is_checked_without_a_round_trip(selects):
    pid = backend_pid()
    checked()
    checked()
    assert selects == []
    assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_its_next_statement(selects):
    pid = backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # until the backend has gone (and said so on the socket)
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
    finally:
        other.close()
    checked()
    assert selects == ["default"]  # the socket had the server's end to read: Django's SELECT 1 decided
    assert connection.connection is None
    assert backend_pid() != pid
