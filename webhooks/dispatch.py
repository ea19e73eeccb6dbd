"""Waking a worker for webhooks, by task name (nothing here imports the tasks). The database decides,
the broker only wakes: a wake that can't reach the broker is logged and forgotten, and beat's
``webhooks.fan_out`` finds the work anyway (planchange.dispatch does the same for plan changes)."""

import logging

from portal.wake import task_wake

log = logging.getLogger(__name__)

FAN_OUT = "webhooks.fan_out"
DELIVER = "webhooks.deliver"


def wake(task: str, args=(), *, countdown: float | None = None) -> bool:
    """Send the message now; False (logged, not raised) when the broker can't be reached."""
    return task_wake(task, args, what=f"{task}{list(args)}", later="beat's fan-out", countdown=countdown, logger=log)
