"""Waking a worker for a plan change: the one place that talks to the broker.

The database decides, the broker only wakes (DESIGN.md "Integrity"): a change is committed
first, and only then is a message sent. A broker that is down must not turn a committed
change into an error, so a failed send is logged and forgotten: the sweep (Celery beat)
enqueues every queued change that no worker has claimed within
``PLANCHANGE_UNCLAIMED_SECONDS``. The message names the task by its registered name, so
nothing here imports the tasks (or, through them, the workflow).
"""

import logging

from django.conf import settings
from django.db import transaction

from portal.celery import app

log = logging.getLogger(__name__)

RUN_CHANGE = "planchange.run_change"
# How long a sender waits for the broker before giving up: a refused connection fails at once,
# a broker that accepts but never answers after BROKER_WAIT seconds (twice, with the retry).
BROKER_WAIT = 2.0
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}


def change_enqueue(change_id: int) -> None:
    """Ask a worker to run the change once the current transaction commits."""
    transaction.on_commit(lambda: change_wake(change_id))


def change_wake(change_id: int) -> bool:
    """Send the message now; False (logged, not raised) when the broker can't be reached."""
    try:
        # Its own short-lived connection with socket timeouts: the pooled one is the worker's too,
        # and a timeout there would break its long polls.
        with app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_WAIT, transport_options={
                "socket_connect_timeout": BROKER_WAIT, "socket_timeout": BROKER_WAIT}) as connection:
            app.send_task(RUN_CHANGE, args=[change_id], connection=connection, retry=True,
                          retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:  # the broker's errors vary by transport; none of them may fail the caller
        log.warning("could not wake a worker for plan change %s; the sweep will", change_id, exc_info=True)
        return False
    return True
