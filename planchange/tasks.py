"""Celery tasks. They take ids, re-fetch, and call one service each."""

from celery import shared_task

from billing.services import credit_checks_complete_due


@shared_task(name="planchange.sweep", ignore_result=True)
def sweep() -> dict:
    """The periodic sweep (Celery beat): work that falls due as the clock moves."""
    return {"credit_checks_completed": credit_checks_complete_due()}
