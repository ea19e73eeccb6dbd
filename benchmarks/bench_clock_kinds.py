"""Support moves the clock two and ten years over 1,000 tenants of every kind (issue 21): MOSA card payers,
MOSA invoice payers (on time and never), MCA billing profiles with several subscriptions (one paying 5 days
late), account credit (MOSA and MCA) and a refund, trials converting and expiring, renewals and expiries,
subscriptions disabled and deleted with their licenses, and an MCA change scheduled for renewal per 8 tenants
(``tests.busy_world`` plus one). Seconds, the move's own CPU seconds (its Python: the database's work is not
in them, and a shared machine's load moves them less than the seconds), the seconds spent executing statements
(the database's work and the round trips: what a move would still cost with no Python), queries, and the longest single
transaction the move holds (every outermost ``transaction.atomic`` timed: the day loop runs each day in a few, the
day's scheduled changes together, ``PLANCHANGE_TOGETHER_MOST`` per transaction)."""

import time
from datetime import date

import pytest
from django.db import transaction

from benchmarks import results
from billing.models import Invoice
from billing.periods import add_months
from planchange.services import plan_change_request
from portal import clock
from simulation.moves import clock_move
from tests.busy_world import world
from tests.factories import BillingProfileFactory, TenantFactory, admin_of, mca_subscription

TENANTS = results.scaled(1_000, least=16)
PER_UNIT = 8  # tests.busy_world's seven tenants and one with a scheduled change
MOVES = [(2, 15.0), (10, 60.0)]

results.table("clock_kinds", "A clock move over tenants of every kind", [
    ("tenants", "tenants"), ("years", "years"), ("days", "days with happenings"), ("seconds", "s"),
    ("cpu_seconds", "the move's own CPU (s)"), ("sql_seconds", "in statements (s)"), ("queries", "queries"),
    ("transactions", "transactions"),
    ("longest_ms", "longest transaction (ms)"),
    ("workflow_seconds", "of which scheduled changes' workflows (s)"), ("happenings", "happenings"),
    ("invoices", "invoices made"), ("target", "target"), ("met", "met")])


class Transactions:
    """Times every outermost ``transaction.atomic`` while it is entered (``longest`` in seconds)."""

    def __enter__(self):
        self.longest, self.count, self._since = 0.0, 0, None
        self._enter, self._exit = transaction.Atomic.__enter__, transaction.Atomic.__exit__
        timer = self

        def enter(atomic):
            if not transaction.get_connection(atomic.using).in_atomic_block:
                timer._since = time.perf_counter()
            return timer._enter(atomic)

        def exit_(atomic, *exc):
            try:
                return timer._exit(atomic, *exc)
            finally:
                if timer._since is not None and not transaction.get_connection(atomic.using).in_atomic_block:
                    timer.longest = max(timer.longest, time.perf_counter() - timer._since)
                    timer.count += 1
                    timer._since = None

        transaction.Atomic.__enter__, transaction.Atomic.__exit__ = enter, exit_
        return self

    def __exit__(self, *exc):
        transaction.Atomic.__enter__, transaction.Atomic.__exit__ = self._enter, self._exit


class Workflows:
    """Times the scheduled changes' workflows the day loop runs (together, set-based: ``planchange.together``; any
    it can't take one by one)."""

    def __enter__(self):
        import simulation.days

        self.seconds, self._run = 0.0, simulation.days._scheduled_changes_run
        timer = self

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return timer._run(*args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - started

        simulation.days._scheduled_changes_run = timed
        return self

    def __exit__(self, *exc):
        import simulation.days

        simulation.days._scheduled_changes_run = self._run


def scheduled(i: int) -> None:
    """An MCA tenant whose Business Standard changes to Business Premium at its renewal (2026-10-01; only a
    billing profile's changes wait for it)."""
    profile = BillingProfileFactory(tenant=TenantFactory(domain=f"scheduled{i}.example", agreement="MCA"))
    sub = mca_subscription(profile, licenses=10, start_date=date(2025, 10, 1))
    tenant = profile.tenant
    plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB",
                        schedule="renewal")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("years", "target"), MOVES)
def test_a_move_over_tenants_of_every_kind(years, target, settings):
    settings.CLOCK_STATISTICS_HAPPENINGS = 10_000  # production's: the suite turns the check off
    clock.set_date(date(2026, 6, 15))
    units = max(TENANTS // PER_UNIT, 2)
    world(units)
    for i in range(units):
        scheduled(i)
    clock_move(actor="support", days=1)  # the day loop's watermark starts here
    before = Invoice.objects.count()
    with results.QueryCounter() as counted, Transactions() as timed, Workflows() as workflows:
        started, cpu = time.perf_counter(), time.process_time()
        moved = clock_move(actor="support", to=add_months(clock.today(), 12 * years))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    met = seconds < target if results.scale() == 1 else None
    results.record("clock_kinds", {
        "tenants": units * PER_UNIT, "years": years, "days": len({e["date"] for e in moved["events"]}),
        "seconds": seconds, "cpu_seconds": round(cpu, 1), "sql_seconds": round(counted.seconds, 1),
        "queries": counted.n, "transactions": timed.count,
        "workflow_seconds": workflows.seconds,
        "longest_ms": round(timed.longest * 1000, 1), "happenings": len(moved["events"]),
        "invoices": Invoice.objects.count() - before, "target": f"< {target:.0f} s at 1,000",
        "met": {True: "yes", False: "no", None: "(scaled)"}[met]})
    assert met is not False
