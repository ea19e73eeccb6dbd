"""Waking a worker for webhooks, by task name (nothing here imports the tasks). The database decides,
the broker only wakes: a wake that can't reach the broker is logged and forgotten, and beat's
``webhooks.fan_out`` finds the work anyway (planchange.dispatch does the same for plan changes)."""

import logging

from portal.wake import task_send

log = logging.getLogger(__name__)

FAN_OUT = "webhooks.fan_out"
DELIVER = "webhooks.deliver"


def wake(task: str, args=(), *, countdown: float | None = None) -> bool:
    """Send the message now; False (logged, not raised) when the broker can't be reached."""
    try:
        task_send(task, args, countdown=countdown)
    except Exception:  # the broker's errors vary by transport; none of them may fail the caller
        log.warning("could not wake a worker for %s%s; beat's fan-out will", task, list(args), exc_info=True)
        return False
    return True
