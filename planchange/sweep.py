"""Plan changes' housekeeping, run by the simulation's sweep (``simulation.sweep``, Celery beat
every few seconds): changes nobody is working on are handed to a worker again, expired quotes and
idempotency keys are deleted."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from planchange.dispatch import change_enqueue
from planchange.models import IdempotencyRecord, PlanChange, PlanChangeStep, Quote
from portal import clock


def stalled_changes_requeue() -> list[int]:
    """Wake a worker again for changes nobody is working on: queued changes that no worker
    claimed within ``PLANCHANGE_UNCLAIMED_SECONDS`` (the broker was down, a message was lost),
    and running ones whose step lease lapsed (a killed worker) or that went quiet for a lease
    period. A duplicate message is harmless: a step is claimed by one worker only."""
    now = timezone.now()
    held = PlanChangeStep.objects.filter(status=PlanChangeStep.Status.RUNNING, lease_until__gt=now)
    unclaimed_since = now - timedelta(seconds=settings.PLANCHANGE_UNCLAIMED_SECONDS)
    quiet_since = now - timedelta(seconds=settings.PLANCHANGE_STEP_LEASE)
    stalled = (
        PlanChange.objects.filter(status__in=(PlanChange.Status.QUEUED, PlanChange.Status.RUNNING))
        .exclude(pk__in=held.values("plan_change_id"))
        .exclude(steps__status=PlanChangeStep.Status.FAILED)
        .filter(Q(status=PlanChange.Status.QUEUED, updated_at__lte=unclaimed_since)
                | Q(steps__status=PlanChangeStep.Status.RUNNING, steps__lease_until__lte=now)
                | Q(updated_at__lte=quiet_since))
        .distinct().values_list("pk", flat=True)
    )
    with transaction.atomic():
        # A change whose row is locked is being worked on (a step, or the day loop's run of a scheduled change in
        # one transaction, queued until it commits): skipped, not waited for while the others' rows are held.
        ids = list(PlanChange.objects.select_for_update(skip_locked=True).filter(pk__in=list(stalled))
                   .order_by("pk").values_list("pk", flat=True))
        # Touch them, so a change waiting behind others is woken once per period, not at every sweep.
        PlanChange.objects.filter(pk__in=ids).update(updated_at=now)
    for change_id in ids:
        change_enqueue(change_id)
    return ids


def quotes_expire() -> int:
    """Quotes a day past their expiry that no change used: nobody can place them any more."""
    used = PlanChange.objects.filter(quote__isnull=False).values("quote_id")
    return Quote.objects.filter(expires_at__lt=clock.now() - timedelta(days=1)).exclude(pk__in=used).delete()[0]


def idempotency_records_expire() -> int:
    return IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()[0]
