"""Celery tasks of webhooks. They take ids and call services; a message lost or doubled changes
nothing (each delivery is claimed in the database before it is sent)."""

from celery import shared_task

from webhooks.dispatch import DELIVER, wake
from webhooks.services import delivery_attempt, delivery_lease, fan_out, retry_wake

# A claimed delivery is another worker's to send once its lease runs out, so the task that claimed it
# is stopped before then (Celery's default limits are minutes: one message could be sent twice at once).
_LEASE = delivery_lease().total_seconds()


@shared_task(name="webhooks.fan_out", ignore_result=True)
def fan_out_task() -> int:
    """Make deliveries from new audit events and wake a worker for each one due (also run by beat)."""
    due = fan_out()
    for delivery_id in due:
        wake(DELIVER, [delivery_id])
    return len(due)


@shared_task(name="webhooks.deliver", ignore_result=True, acks_late=True, soft_time_limit=_LEASE - 10,
             time_limit=_LEASE - 5)
def deliver(delivery_id: int) -> str:
    """One attempt at a delivery (when it is due), then a wake for its retry."""
    outcome, delay = delivery_attempt(delivery_id)
    if outcome == "retry":
        retry_wake(delivery_id, delay)
    return outcome
