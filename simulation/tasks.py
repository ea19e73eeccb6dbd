"""Celery tasks of the simulation: the periodic sweep (Celery beat) and support's clock moves."""

from celery import shared_task

from simulation.moves import PAUSED, move_run, moves_wake
from simulation.sweep import sweep_run


@shared_task(name="simulation.sweep", ignore_result=True)
def sweep() -> dict:
    """The periodic sweep (Celery beat): work that falls due as the clock moves."""
    return sweep_run()


# A task runs a move for at most this long, then hands it on (a message of its own): a worker's warm
# shutdown waits for no more, and other work of the queue gets its turn. A runner killed anyway leaves its
# lease to run out; the sweep wakes another, which goes on.
MOVE_TASK_BUDGET = 60.0


@shared_task(name="simulation.clock_move", ignore_result=True, time_limit=3600, soft_time_limit=3540)
def clock_move(move_id: int) -> str:
    """Run support's move of the clock if no one else is running it, for a while; a dry run to its end (its copy
    of the world is its connection's own: one handed on would start over, and one longer than a task's while never
    ended)."""
    outcome = move_run(move_id, budget=MOVE_TASK_BUDGET, whole_preview=True)
    if outcome == PAUSED:
        moves_wake([move_id])
    return outcome
