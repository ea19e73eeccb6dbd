"""Celery tasks of webhooks. They take ids and call services; a message lost or doubled changes
nothing (each delivery is claimed in the database before it is sent)."""

from celery import shared_task

from webhooks.dispatch import DELIVER, wake
from webhooks.services import delivery_attempt, fan_out, retry_wake


@shared_task(name="webhooks.fan_out", ignore_result=True)
def fan_out_task() -> int:
    """Make deliveries from new audit events and wake a worker for each one due (also run by beat)."""
    due = fan_out()
    for delivery_id in due:
        wake(DELIVER, [delivery_id])
    return len(due)


@shared_task(name="webhooks.deliver", ignore_result=True, acks_late=True)
def deliver(delivery_id: int) -> str:
    """One attempt at a delivery (when it is due), then a wake for its retry."""
    outcome, delay = delivery_attempt(delivery_id)
    if outcome == "retry":
        retry_wake(delivery_id, delay)
    return outcome
