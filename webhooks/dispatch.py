"""Waking a worker for webhooks, by task name (nothing here imports the tasks). The database decides,
the broker only wakes: a wake that can't reach the broker is logged and forgotten, and beat's
``webhooks.fan_out`` finds the work anyway (planchange.dispatch does the same for plan changes)."""

import logging

from django.conf import settings

from planchange.dispatch import BROKER_WAIT, PUBLISH_RETRY_POLICY
from portal.celery import app

log = logging.getLogger(__name__)

FAN_OUT = "webhooks.fan_out"
DELIVER = "webhooks.deliver"


def wake(task: str, args=(), *, countdown: float | None = None) -> bool:
    """Send the message now; False (logged, not raised) when the broker can't be reached."""
    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_WAIT, transport_options={
                "socket_connect_timeout": BROKER_WAIT, "socket_timeout": BROKER_WAIT}) as connection:
            app.send_task(task, args=list(args), countdown=countdown, connection=connection, retry=True,
                          retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:  # the broker's errors vary by transport; none of them may fail the caller
        log.warning("could not wake a worker for %s%s; beat's fan-out will", task, list(args), exc_info=True)
        return False
    return True
