"""A Celery worker keeps its PostgreSQL connection from task to task, as a web process does from request to
request (CONN_MAX_AGE), and a broken one is replaced before the next task uses it (CONN_HEALTH_CHECKS).
Celery's Django fixup closes every connection before and after each task; ``portal.workers`` has the worker
close only what Django's own request cycle would (``close_old_connections``)."""

from pathlib import Path

import pytest
from django.db import connection

from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's backend pids")]


def pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def run(task, path: Path, count: int) -> list[int]:
    task.delay(str(path))
    wait_for(lambda: len(pids(path)) == count, what=f"task {count}")
    return pids(path)


def test_a_worker_runs_its_tasks_on_one_connection_and_replaces_a_broken_one(tmp_path):
    from tests.portal.worker_backend_pid import backend_pid

    out = tmp_path / "pids"
    with celery_worker(tmp_path / "worker.log", app_module="tests.portal.worker_backend_pid"):
        run(backend_pid, out, 1)
        run(backend_pid, out, 2)
        first, second = pids(out)
        assert second == first, "a new PostgreSQL backend for the second task"
        with connection.cursor() as cursor:  # the server ends the worker's backend between two tasks
            cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        third = run(backend_pid, out, 3)[-1]
        fourth = run(backend_pid, out, 4)[-1]
    assert third != first and fourth == third
