"""Celery tasks of the simulation: the periodic sweep (Celery beat) and support's clock moves."""

from celery import shared_task

from simulation.moves import move_run
from simulation.sweep import sweep_run


@shared_task(name="simulation.sweep", ignore_result=True)
def sweep() -> dict:
    """The periodic sweep (Celery beat): work that falls due as the clock moves."""
    return sweep_run()


# A ten-year move over thousands of tenants may take minutes: its own time limit, not the workflow steps'.
# A runner stopped anyway leaves its lease to run out; the sweep wakes another, which goes on.
@shared_task(name="simulation.clock_move", ignore_result=True, time_limit=3600, soft_time_limit=3540)
def clock_move(move_id: int) -> bool:
    """Run support's move of the clock (or its dry run) if no one else is running it."""
    return move_run(move_id)
