"""Celery tasks of the simulation: the periodic sweep (Celery beat)."""

from celery import shared_task

from simulation.sweep import sweep_run


@shared_task(name="simulation.sweep", ignore_result=True)
def sweep() -> dict:
    """The periodic sweep (Celery beat): work that falls due as the clock moves."""
    return sweep_run()
