"""The sweep: what falls due as time passes. Run by Celery beat every few seconds and at
once when support staff move the clock."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.services import credit_checks_complete_due
from planchange.models import IdempotencyRecord, PlanChange, PlanChangeStep, Quote
from portal import clock
from portal.services import clock_advance, event_record


def _enqueue(change_id: int) -> None:
    from planchange.tasks import run_change

    transaction.on_commit(lambda: run_change.delay(change_id))


def scheduled_changes_start_due() -> list[int]:
    """Changes scheduled for renewal whose date has come: queue them."""
    started = []
    for change_id in PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED,
                                               scheduled_for__lte=clock.today()).values_list("pk", flat=True):
        with transaction.atomic():
            change = PlanChange.objects.select_for_update().get(pk=change_id)
            if change.status != PlanChange.Status.SCHEDULED:
                continue
            change.status = PlanChange.Status.QUEUED
            change.save(update_fields=["status"])
            event_record(tenant=change.tenant, actor="system", verb="plan_change.started", obj=change,
                         data={"scheduled_for": change.scheduled_for.isoformat()})
            _enqueue(change.pk)
            started.append(change.pk)
    return started


def stalled_changes_requeue() -> list[int]:
    """Queued or running changes nobody holds (a lost message, a killed worker): enqueue
    them again. A duplicate message is harmless: a step is claimed by one worker only."""
    now = timezone.now()
    held = PlanChangeStep.objects.filter(status=PlanChangeStep.Status.RUNNING, lease_until__gt=now)
    quiet_since = now - timedelta(seconds=settings.PLANCHANGE_STEP_LEASE)
    stalled = (
        PlanChange.objects.filter(status__in=(PlanChange.Status.QUEUED, PlanChange.Status.RUNNING))
        .exclude(pk__in=held.values("plan_change_id"))
        .exclude(steps__status=PlanChangeStep.Status.FAILED)
        .filter(Q(steps__status=PlanChangeStep.Status.RUNNING, steps__lease_until__lte=now)
                | Q(updated_at__lte=quiet_since))
        .distinct().values_list("pk", flat=True)
    )
    ids = list(stalled)
    for change_id in ids:
        _enqueue(change_id)
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
