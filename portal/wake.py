"""Waking a worker by task name: the one way the apps publish a Celery message (nothing imports the
tasks). The database decides, the broker only wakes: a caller that can't reach the broker logs it and
goes on, and a periodic sweep finds the work."""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from portal.celery import app

# How long a sender waits for the broker before giving up: a refused connection fails at once,
# a broker that accepts but never answers after BROKER_WAIT seconds (twice, with the retry).
BROKER_WAIT = 2.0
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}


log = logging.getLogger(__name__)

# Set while a dry run goes on (simulation.shadow): its rows live on one connection only, so no worker
# may be woken for them.
_paused: ContextVar[bool] = ContextVar("publishing_paused", default=False)


@contextmanager
def publishing_paused():
    """Inside, ``task_send`` publishes nothing (a dry run's changes and deliveries aren't real)."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def task_wake(task: str, args=(), *, what: str, later: str, countdown: float | None = None,
              logger: logging.Logger = log) -> bool:
    """``task_send``, or when the broker can't be reached, a warning that ``later`` (the sweep, beat's fan-out)
    will find ``what`` instead: False. Never raises (the database decides, the broker only wakes)."""
    try:
        task_send(task, args, countdown=countdown)
    except Exception:  # the broker's errors vary by transport; none of them may fail the caller
        logger.warning("could not wake a worker for %s; %s will", what, later, exc_info=True)
        return False
    return True


def task_send(task: str, args=(), *, countdown: float | None = None) -> None:
    """Publish ``task`` now, within BROKER_WAIT; raises the transport's error when the broker can't be
    reached (they vary by transport: callers catch Exception and log). Nothing while publishing is paused."""
    if _paused.get():
        return
    # Its own short-lived connection with socket timeouts: the pooled one is the worker's too,
    # and a timeout there would break its long polls.
    with app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_WAIT, transport_options={
            "socket_connect_timeout": BROKER_WAIT, "socket_timeout": BROKER_WAIT}) as connection:
        app.send_task(task, args=list(args), countdown=countdown, connection=connection, retry=True,
                      retry_policy=PUBLISH_RETRY_POLICY)
