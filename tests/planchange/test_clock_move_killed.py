"""A move of the clock whose worker is killed mid-way (SIGKILL: no cleanup) is taken up again within a
lease and goes on from the last day applied: every day applied once, nothing billed twice, nothing lost."""

from collections import Counter
from datetime import date

import pytest
from django.db.models import Count

from billing.models import Invoice
from portal import clock
from portal.models import Event
from simulation.models import ClockMove
from simulation.moves import move_request
from simulation.sweep import sweep_run
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory
from tests.worker import celery_worker, kill_hard, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TENANTS = 10
LEASE = 3  # seconds, for the test: the default is 20


def _progress(move_id: int) -> ClockMove:
    return ClockMove.objects.get(pk=move_id)


def test_a_move_whose_worker_is_killed_is_taken_up_again_and_applies_every_day_once(tmp_path, settings):
    settings.CLOCK_MOVE_LEASE = LEASE
    clock.set_date(date(2026, 6, 15))
    for i in range(TENANTS):
        tenant = TenantFactory(domain=f"moving{i}.example")
        SubscriptionFactory(tenant=tenant, licenses=5, payment_method=PaymentMethodFactory(tenant=tenant),
                            start_date=date(2026, 6, 1))
    with celery_worker(tmp_path / "first.log", CLOCK_MOVE_LEASE=str(LEASE)) as first:
        move = move_request(actor="support@portal.local", to=date(2029, 6, 15))  # woken on commit
        wait_for(lambda: _progress(move.pk).days_done > 120, timeout=120, what="the move under way")
        kill_hard(first)
    stopped = _progress(move.pk)
    assert (stopped.status, stopped.runs) == ("running", 1)
    assert 120 < stopped.days_done < stopped.days_total == 1096

    with celery_worker(tmp_path / "second.log", CLOCK_MOVE_LEASE=str(LEASE)):
        # Beat's sweep, every few seconds: once the dead runner's lease has run out, it wakes a worker.
        wait_for(lambda: sweep_run() is None or _progress(move.pk).status == "done", timeout=240, interval=1.0,
                 what="the move taken up again and finished")
    done = _progress(move.pk)
    assert (done.status, done.runs, done.error) == ("done", 2, "")
    assert clock.today() == date(2029, 6, 15)
    # Every month from July 2026 to June 2029 invoiced once for every tenant, and paid once.
    per_tenant = Counter(dict(Invoice.objects.values_list("tenant__domain").annotate(n=Count("pk"))))
    assert per_tenant == {f"moving{i}.example": 36 for i in range(TENANTS)}
    assert Invoice.objects.values("date", "tenant").annotate(n=Count("pk")).filter(n__gt=1).count() == 0
    assert all(i.paid == i.total for i in Invoice.objects.all())
    assert Event.objects.filter(verb="invoice.lines_added").count() == 36 * TENANTS
    kinds = Counter(h["kind"] for batch in done.happened.values_list("data", flat=True) for h in batch)
    # Only a day the killed runner was in the middle of may be missing from the list (the audit trail has it).
    assert 36 * TENANTS - TENANTS <= kinds["invoice"] <= 36 * TENANTS
