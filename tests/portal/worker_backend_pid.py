"""The portal's Celery app with one task more, for tests/portal/test_worker_connection.py: each run appends
the PostgreSQL backend pid of the worker's connection to a file (``celery -A tests.portal.worker_backend_pid``)."""

from django.db import connection

from portal.celery import app

__all__ = ["app", "backend_pid"]


@app.task(name="tests.backend_pid")
def backend_pid(path: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(path, "a") as out:
        out.write(f"{pid}\n")
