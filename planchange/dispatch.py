"""Waking a worker for a plan change: the one place that talks to the broker.

The database decides, the broker only wakes (DESIGN.md "Integrity"): a change is committed
first, and only then is a message sent. A broker that is down must not turn a committed
change into an error, so a failed send is logged and forgotten: the sweep (Celery beat)
enqueues every queued change that no worker has claimed within
``PLANCHANGE_UNCLAIMED_SECONDS``. The message names the task by its registered name, so
nothing here imports the tasks (or, through them, the workflow).
"""

import logging

from django.db import transaction

from portal.wake import task_wake

log = logging.getLogger(__name__)

RUN_CHANGE = "planchange.run_change"


def change_enqueue(change_id: int) -> None:
    """Ask a worker to run the change once the current transaction commits."""
    transaction.on_commit(lambda: change_wake(change_id))


def change_wake(change_id: int) -> bool:
    """Send the message now; False (logged, not raised) when the broker can't be reached."""
    return task_wake(RUN_CHANGE, [change_id], what=f"plan change {change_id}", later="the sweep", logger=log)
