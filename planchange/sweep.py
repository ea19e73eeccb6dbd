"""The sweep: what falls due as time passes. Run by Celery beat every few seconds and at
once when support staff move the clock."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.services import credit_checks_complete_due, subscription_hold, subscription_lock
from planchange.dispatch import change_enqueue
from planchange.models import IdempotencyRecord, PlanChange, PlanChangeStep, Quote
from portal import clock
from portal.services import clock_advance, event_record


def scheduled_changes_start_due() -> list[int]:
    """Changes scheduled for renewal whose date has come: queue them, holding their
    subscription read-only from now on (locks: the subscription, then the change)."""
    started = []
    due = PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED, scheduled_for__lte=clock.today())
    for change_id, tenant_id, subscription_id in due.values_list("pk", "tenant_id", "subscription_id"):
        with transaction.atomic():
            subscription_lock(tenant=tenant_id, subscription_id=subscription_id)
            change = PlanChange.objects.select_for_update().get(pk=change_id)
            if change.status != PlanChange.Status.SCHEDULED:
                continue
            change.status = PlanChange.Status.QUEUED
            change.save(update_fields=["status", "updated_at"])
            subscription_hold(tenant=tenant_id, subscription_id=subscription_id, holder=change.holder)
            event_record(tenant=change.tenant, actor="system", verb="plan_change.started", obj=change,
                         data={"scheduled_for": change.scheduled_for.isoformat()})
            change_enqueue(change.pk)
            started.append(change.pk)
    return started


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
    ids = list(stalled)
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


def sweep_run() -> dict:
    with transaction.atomic():
        started = scheduled_changes_start_due()
        requeued = stalled_changes_requeue()
    return {
        "scheduled_started": started,
        "requeued": requeued,
        "credit_checks_completed": credit_checks_complete_due(),
        "idempotency_keys_expired": idempotency_records_expire(),
        "quotes_expired": quotes_expire(),
    }


def clock_move(*, actor: str, days: int = 0, business_days: int = 0, to=None) -> dict:
    """Support staff move the simulation clock forward; the sweep runs at once, after the
    new date is committed, so what fell due in between happens now."""
    with transaction.atomic():
        clock_advance(actor=actor, days=days, business_days=business_days, to=to)
    return sweep_run()
