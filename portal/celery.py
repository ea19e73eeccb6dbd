"""The Celery application ``portal`` (``celery -A portal worker`` / ``beat``)."""

import os

from celery import Celery
from celery.signals import worker_init

from portal import broker  # noqa: F401  "filesystem://" writes each message whole (portal/broker.py)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect(dispatch_uid="portal.celery.connections")
def _connections_kept(sender=None, **kwargs):
    """Each task on the connection the last one left, as each request of a web process is (CONN_MAX_AGE):
    Celery's Django fixup closes every database connection before and after each task (a new PostgreSQL
    backend for every task); the worker closes, at the same moments, only what Django's request cycle
    closes (``close_old_connections``: past CONN_MAX_AGE, broken by an error, or left outside autocommit),
    and CONN_HEALTH_CHECKS checks a kept one before a task uses it. A pool process still closes what it
    inherited from the worker when it starts (the fixup's own ``worker_process_init``)."""
    from django.db import close_old_connections

    for fixup in getattr(app, "_fixups", ()):
        worker_fixup = getattr(fixup, "worker_fixup", None)
        if worker_fixup is not None:
            worker_fixup.close_database = lambda **kwargs: close_old_connections()
