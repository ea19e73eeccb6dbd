"""Which Celery workers are alive (issue 21): each worker records, per queue, when it last started or
finished a task of that queue (``WorkerBeat``), at most every ``BEAT_GAP`` seconds per process. Beat sends
every queue a ``portal.worker_beat`` task every ``PORTAL_WORKER_BEAT_SECONDS`` (settings), so an idle
worker beats too. A beat is written by a pool process running a task, not by the worker's main process:
a worker that takes messages and runs none (the wedge of issue 21) falls silent, as it should."""

import logging
import time
from datetime import datetime, timedelta

from celery.signals import task_postrun, task_prerun
from django.db import DatabaseError
from django.utils import timezone

from portal.models import WorkerBeat

log = logging.getLogger(__name__)

BEAT_GAP = 5.0  # seconds between two beats of one process on one queue, however many tasks it runs
FORGET_AFTER = timedelta(days=1)  # a worker silent this long is gone (a test's, a renamed host's)
BEAT_TASK = "portal.worker_beat"

_last_beat: dict[str, float] = {}  # queue → monotonic time of this process's last beat on it


def worker_beat_record(*, hostname: str, queue: str, at: datetime | None = None) -> None:
    """``hostname`` answered on ``queue`` now (or ``at``): one row per worker and queue, kept current."""
    WorkerBeat.objects.bulk_create([WorkerBeat(hostname=hostname, queue=queue, beat_at=at or timezone.now())],
                                   update_conflicts=True, unique_fields=["hostname", "queue"],
                                   update_fields=["beat_at"])


def worker_beats_forget() -> int:
    """Rows of workers silent for more than ``FORGET_AFTER``: deleted."""
    return WorkerBeat.objects.filter(beat_at__lt=timezone.now() - FORGET_AFTER).delete()[0]


def worker_beats(*, since: datetime):
    """Workers that answered since ``since``, by queue, the latest first."""
    return WorkerBeat.objects.filter(beat_at__gte=since).order_by("queue", "-beat_at", "hostname")


def _queue_of(task) -> str | None:
    request = getattr(task, "request", None)
    info = getattr(request, "delivery_info", None) or {}
    return info.get("routing_key") or None


def _beat(task) -> None:
    """Record a beat for the queue the task came from, unless this process did a moment ago. A
    database error is logged, never the task's: a beat is never worth a task."""
    queue, hostname = _queue_of(task), getattr(task.request, "hostname", None)
    if not queue or not hostname or task.name == BEAT_TASK:
        return
    now = time.monotonic()
    if now - _last_beat.get(queue, float("-inf")) < BEAT_GAP:
        return
    _last_beat[queue] = now
    try:
        worker_beat_record(hostname=hostname, queue=queue)
    except DatabaseError:
        log.warning("could not record a beat of %s on %s", hostname, queue, exc_info=True)


@task_prerun.connect(dispatch_uid="portal.workers.started")
def _started(sender=None, task=None, **kwargs):
    _beat(task or sender)


@task_postrun.connect(dispatch_uid="portal.workers.finished")
def _finished(sender=None, task=None, **kwargs):
    _beat(task or sender)
