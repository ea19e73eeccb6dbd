"""Celery tasks. They take ids, re-fetch, and call services; retries are for transient
errors only, with bounded backoff."""

from celery import shared_task

from planchange import workflow


@shared_task(
    name="planchange.run_change", ignore_result=True, acks_late=True,
    autoretry_for=workflow.TRANSIENT, retry_backoff=2, retry_backoff_max=60, retry_jitter=True, max_retries=8,
)
def run_change(change_id: int) -> str:
    """Run a plan change's remaining steps (safe to receive twice)."""
    return workflow.run(change_id)
