"""A move of the simulation clock as background work (DESIGN.md "Time and the subscription lifecycle"):
the row is the move's state, its lease and its progress; the worker (or a waiting request) that holds
the lease applies the days, each in its own short transactions, and the row says how far it got."""

from django.db import models
from django.db.models import Q


class ClockMoveStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"


UNFINISHED = (ClockMoveStatus.QUEUED, ClockMoveStatus.RUNNING)


class ClockMove(models.Model):
    """Support staff's move of the clock (or its dry run) from ``start`` to ``target``."""

    Status = ClockMoveStatus
    UNFINISHED = UNFINISHED

    actor = models.CharField(max_length=254)
    dry_run = models.BooleanField(default=False)
    start = models.DateField(help_text="the simulation date the move began on")
    target = models.DateField(help_text="the simulation date it ends on")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    applied_through = models.DateField(null=True, blank=True,
                                       help_text="the last day on the way applied (the progress)")
    happenings = models.PositiveIntegerField(default=0, help_text="things that happened so far")
    first_new_subscription = models.BigIntegerField(
        default=0, help_text="subscriptions from this id on were made on the way (named by their change)")
    lease_until = models.DateTimeField(null=True, blank=True,
                                       help_text="machine time until which its runner holds it")
    runner = models.CharField(max_length=200, blank=True, help_text="who holds the lease (host:pid)")
    runs = models.PositiveSmallIntegerField(default=0, help_text="times a runner took it up (1: never interrupted)")
    woken_at = models.DateTimeField(null=True, blank=True,
                                    help_text="machine time the sweep last woke a worker for it (once a lease)")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One real move at a time: the database decides, whoever asks.
            models.UniqueConstraint(fields=["dry_run"], condition=Q(dry_run=False, status__in=UNFINISHED),
                                    name="clock_one_move_at_a_time"),
            models.CheckConstraint(condition=Q(target__gte=models.F("start")), name="clock_move_forward"),
        ]

    def __str__(self):
        return f"clock move {self.pk}: {self.start} → {self.target} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status not in self.UNFINISHED

    @property
    def days_total(self) -> int:
        return (self.target - self.start).days

    @property
    def days_done(self) -> int:
        if self.status == self.Status.DONE:
            return self.days_total
        if self.applied_through is None:
            return 0
        return max(0, min(self.days_total, (self.applied_through - self.start).days))


class ClockMoveHappening(models.Model):
    """What happened on the way as one transaction recorded it (a day, or a chunk of its tenants): a list of
    ``portal.happenings.Happening.as_dict``, in order; ``seq`` is the move's count of happenings before it."""

    move = models.ForeignKey(ClockMove, on_delete=models.CASCADE, related_name="happened")
    seq = models.PositiveIntegerField()
    data = models.JSONField()

    class Meta:
        ordering = ["move", "seq"]
        constraints = [models.UniqueConstraint(fields=["move", "seq"], name="clock_move_happening_once")]

    def __str__(self):
        return f"clock move {self.move_id} #{self.seq}"
