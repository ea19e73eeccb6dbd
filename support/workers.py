"""Workers you can see (issue 21): for each queue, the workers that answered lately (``portal.workers``)
and the work waiting for them; ``silent`` when none has answered for ``PORTAL_WORKER_SILENCE_SECONDS``
while work waits (the support pages' banner). Three small queries, whatever the number of tenants."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from planchange.selectors import changes_waiting_count
from portal.workers import FORGET_AFTER, worker_beats
from simulation.moves import CLOCK_QUEUE, moves_held, moves_waiting_count
from webhooks.selectors import deliveries_waiting_count

# (queue, who works it, what waits for it): the Procfile's and docker-compose's two kinds of worker.
QUEUES = (
    ("celery", _("Plan-change workers"), changes_waiting_count),
    ("webhooks", _("Webhook workers"), deliveries_waiting_count),
    ("clock", _("Clock workers"), moves_waiting_count),
)


@dataclass(frozen=True)
class Worker:
    hostname: str
    beat_at: datetime
    alive: bool
    just_now: bool = False  # answered within the last minute ("0 minutes ago" says it badly)


@dataclass(frozen=True)
class QueueHealth:
    queue: str
    label: str | Promise
    waiting: int
    workers: list[Worker] = field(default_factory=list)
    busy: bool = False  # a worker has work of this queue in hand (a long move: a worker beats between its tasks)

    @property
    def last_beat_at(self) -> datetime | None:
        return self.workers[0].beat_at if self.workers else None

    @property
    def alive(self) -> bool:
        """A worker of this queue answered within the silence period, or has its work in hand."""
        return self.busy or any(worker.alive for worker in self.workers)

    @property
    def silent(self) -> bool:
        """No worker answered for the silence period, and work waits for one."""
        return self.waiting > 0 and not self.alive


def workers_health(*, now: datetime | None = None) -> list[QueueHealth]:
    """Each queue's workers (those heard from in the last day, the latest first) and waiting work."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.PORTAL_WORKER_SILENCE_SECONDS)
    heard: dict[str, list[Worker]] = {}
    for beat in worker_beats(since=now - FORGET_AFTER):
        heard.setdefault(beat.queue, []).append(Worker(beat.hostname, beat.beat_at, beat.beat_at >= quiet_since,
                                                       beat.beat_at >= now - timedelta(minutes=1)))
    return [QueueHealth(queue=queue, label=label, waiting=waiting(), workers=heard.get(queue, []),
                        busy=queue == CLOCK_QUEUE and moves_held())
            for queue, label, waiting in QUEUES]
