"""A change's progress as a picture: each step with its duration and whether it stalled, placed on
one time axis (the change's page, and the support console's)."""

from dataclasses import dataclass

from django.utils import timezone

from planchange.models import PlanChange, PlanChangeStep
from portal import clock


@dataclass
class StepLine:
    step: PlanChangeStep
    stalled: bool
    seconds: float | None  # how long it ran (so far, while running), in simulation time
    y: int = 0  # the timeline picture (an inline SVG 1000 wide): the row, and the bar's start and width
    bar_x: float = 0.0
    bar_width: float = 0.0


ROW, LABELS, BARS = 22, 260, 720  # the picture: row height, label column, bar area


def change_timeline(change: PlanChange) -> list[StepLine]:
    """Each step with its duration and whether it stalled (its worker stopped renewing the lease, a
    machine time), placed on one time axis for the picture. Step times are simulation times."""
    machine_now, now = timezone.now(), clock.now()
    lines = []
    for i, step in enumerate(change.steps.all()):
        end = step.finished_at or (now if step.status == PlanChangeStep.Status.RUNNING else None)
        seconds = max((end - step.started_at).total_seconds(), 0.0) if step.started_at and end else None
        stalled = (step.status == PlanChangeStep.Status.RUNNING and step.lease_until is not None
                   and step.lease_until < machine_now)
        lines.append(StepLine(step=step, stalled=stalled, seconds=seconds, y=i * ROW))
    started = [line for line in lines if line.step.started_at]
    if started:
        first = min(line.step.started_at for line in started)
        span = max(max((line.step.started_at - first).total_seconds() + (line.seconds or 0) for line in started),
                   0.001)
        for line in started:
            line.bar_x = round(LABELS + (line.step.started_at - first).total_seconds() / span * BARS, 1)
            line.bar_width = round(max((line.seconds or 0) / span * BARS, 4), 1)
    return lines


def timeline_height(lines) -> int:
    return len(lines) * ROW + 4
