"""Busy days cost the same statements whatever the number of tenants (issue 21, item 3): a world of N
tenants of every kind moves over a month boundary, at N=2 and N=20, in the same number of queries.

Every kind falls due on 2026-07-01 or 2026-07-02: MOSA card payers (invoiced, charged the next day),
MOSA invoice payers (invoiced, paying an earlier invoice on time; another falling past due), MCA billing
profiles with several subscriptions (lines onto the profile's invoice of the next 1st, one of them
joining it the next day), account credit (MOSA and MCA) taken by the new invoices, a refund reaching
its card, a billing profile paying 5 days late, trials converting or expiring, renewals (recurring
billing on) and expiries (off), Expired subscriptions disabled, Disabled ones deleted with their
licenses, and scheduled changes started (their workflow runs per change: see
``test_starting_scheduled_changes_costs_the_same_queries_for_2_and_20``)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Subscription
from planchange.models import PlanChange
from portal import clock
from tests.busy_world import world
from tests.factories import PlanChangeFactory, SubscriptionFactory
from tests.helpers import move

pytestmark = pytest.mark.django_db



KINDS = ["provisioned", "credit_check", "trial_converted", "trial_expired", "renewal", "invoice", "payment",
         "invoice_payment", "refund", "expired", "disabled", "deleted", "overdue"]


@pytest.fixture
def sqlite_batches(monkeypatch):
    """Django splits a bulk insert on SQLite at the old limit of 999 parameters (some 120 audit rows a
    statement); the SQLite linked here takes 32,766 (its default since 3.32). Counted with that limit, what is
    measured is the day loop's statements, not Django's batches (PostgreSQL has no such split)."""
    if connection.vendor == "sqlite":
        monkeypatch.setattr(connection.features, "max_query_params", 32_766)


@pytest.mark.parametrize("tenants", [2, 20])
def test_a_busy_month_boundary_costs_the_same_queries_for_2_and_20_tenants_of_every_kind(at_date, tenants,
                                                                                      sqlite_batches, settings):
    # The whole day in one transaction, however slow the machine (a transaction over the budget would halve the next
    # day's): its statements (chunks: below).
    settings.CLOCK_DAY_TENANTS, settings.CLOCK_DAY_TRANSACTION_SECONDS = 10_000, 3_600
    at_date("2026-06-15")
    world(tenants)
    move("2026-06-30")  # the day loop's watermark; June's last days fall due here
    with CaptureQueriesContext(connection) as queries:
        moved = move("2026-07-02")
    kinds = {e["kind"] for e in moved["events"]}
    assert kinds >= set(KINDS) - {"provisioned", "credit_check"}, kinds
    assert [e["kind"] for e in moved["events"] if e["date"] == "2026-07-01"].count("deleted") == tenants
    pinned = {"sqlite": BUSY_QUERIES_SQLITE, "postgresql": BUSY_QUERIES_POSTGRESQL}[connection.vendor]
    assert len(queries.captured_queries) == pinned, "\n".join(q["sql"][:160] for q in queries.captured_queries)


BUSY_QUERIES_SQLITE = 147  # with the day's work asked once per day in one statement (billing.daywork; it was 8 a
# day, 191 in all); the offer billed read once per move, not once per day (billing.offers.catalog_pinned); the
# clock's row locked in one statement (portal.clock._row_lock; it was 2), a move's progress noted in 2 (3), and the
# day marked applied by its last chunk of tenants (it was a transaction of its own); the invoices told past due on
# 07-01 marked told in one statement (Invoice.past_due_noted: each is told once, one billed late too; it was 158);
# the days before the move's start, which the sweep had applied, not asked for again (simulation.days: 159)
BUSY_QUERIES_POSTGRESQL = 173  # rows_update: its values COPYed into a temporary table (4 statements); it was 216;
# the invoices told past due marked told (183); a day's new invoices written once, with their totals, after their
# postings (portal.bulk.ids_draw), but a billing profile's monthly one at once, claiming its key: one more COPY
# (184); the days before the move's start not asked for again (185)


def test_starting_scheduled_changes_costs_the_same_queries_for_2_and_20(at_date):
    """The day's scheduled changes are started (queued, their subscriptions held, audited) set-based;
    the workflow each then runs is its own (``simulation.days._scheduled_changes_run``)."""
    from planchange.scheduled import scheduled_changes_start_due

    at_date("2026-06-15")

    def start(n: int, day: date) -> int:
        for _ in range(n):
            sub = SubscriptionFactory(start_date=date(2025, day.month, day.day))
            PlanChangeFactory(subscription=sub, status="scheduled", scheduled_for=day)
        with CaptureQueriesContext(connection) as queries, clock.offset_pinned():
            started = scheduled_changes_start_due(day=day)
        assert len(started) == n
        assert PlanChange.objects.filter(pk__in=started, status="queued").count() == n
        assert Subscription.objects.filter(held_by__startswith="plan_change").count() >= n
        PlanChange.objects.filter(pk__in=started).update(status="cancelled")
        Subscription.objects.update(held_by="")
        return len(queries.captured_queries)

    assert start(2, date(2026, 7, 1)) == start(20, date(2026, 7, 2))


def _scheduled_at_renewal(i: int, *, users: int = 0) -> None:
    """An MCA tenant's Business Standard (10 licenses, ``users`` of them assigned) changing to Business Premium
    at its renewal, 2026-10-01."""
    from planchange.services import plan_change_request
    from tests.factories import BillingProfileFactory, LicenseFactory, TenantFactory, admin_of, mca_subscription

    profile = BillingProfileFactory(tenant=TenantFactory(domain=f"scheduled{i}.example", agreement="MCA"))
    sub = mca_subscription(profile, licenses=10, start_date=date(2025, 10, 1))
    for _ in range(users):
        LicenseFactory(subscription=sub)
    plan_change_request(tenant=profile.tenant, user=admin_of(profile.tenant), subscription_id=sub.pk,
                        target_sku="SPB", schedule="renewal")


def _statements_of_changes_run(changes: int, *, watermark: str, to: str) -> list[str]:
    """``changes`` changes scheduled for their renewal (2026-10-01), the clock moved to ``watermark``, then the
    statements of the move to ``to``, which runs every change to completion (checked)."""
    for i in range(changes):
        _scheduled_at_renewal(i)
    move(watermark)
    with CaptureQueriesContext(connection) as queries:
        moved = move(to)
    assert PlanChange.objects.filter(status="completed").count() == changes
    assert sum(e["kind"] == "plan_change" for e in moved["events"]) == changes
    return [q["sql"] for q in queries.captured_queries]


CATALOG_TABLES = ('"billing_product"', '"billing_offer"', '"billing_serviceplan"', '"billing_product_service_plans"')


@pytest.mark.parametrize("changes", [2, 6])
def test_a_move_reads_the_catalog_once_whatever_the_scheduled_changes_and_periods_it_runs(at_date, changes):
    """The catalog is read-only while the portal serves: a move reads each part of it it needs once
    (``billing.offers.catalog_pinned``), not once per change validated and billed or per chunk of periods."""
    at_date("2026-09-15")
    statements = _statements_of_changes_run(changes, watermark="2026-09-20", to="2026-11-02")
    catalog = [sql for sql in statements
               if any(f"FROM {table}" in sql for table in CATALOG_TABLES)]  # read, not joined to
    # The products with their plans and offers (3), each offer billed or changed into (Business Standard and
    # Premium, monthly); the target comes with the change that names it (run together: ``planchange.together``).
    assert len(catalog) == 3 + 2, "\n".join(sql[:160] for sql in catalog)


def _snapshot() -> dict:
    from billing.models import Invoice
    from licensing.models import LicenseAssignment
    from portal.models import Event

    return {
        "invoices": sorted((i.tenant_id, i.number, i.date, i.total, i.paid, i.refunded,
                            sorted((line.description, line.amount) for line in i.lines.all()))
                           for i in Invoice.objects.prefetch_related("lines")),
        "subscriptions": sorted(Subscription.objects.values_list("pk", "status", "status_until", "billed_until")),
        "licenses": LicenseAssignment.objects.count(),
        "events": sorted((e.tenant_id or 0, e.verb, repr(sorted(e.data.items()))) for e in Event.objects.all()
                         if e.verb != "clock.advanced"),
    }


def _in_one_transaction(settings, to: str) -> tuple[list, dict]:
    """``world(4)`` moved to 2026-06-30, then what a move to ``to`` lists and leaves with each day in one
    transaction (rolled back: the clock stays on 2026-06-30)."""
    from django.db import transaction

    world(4)
    move("2026-06-30")
    with transaction.atomic():
        settings.CLOCK_DAY_TENANTS, settings.CLOCK_DAY_TRANSACTION_SECONDS = 10_000, 3_600
        whole = move(to)["events"]
        one_transaction = _snapshot()
        transaction.set_rollback(True)
    return whole, one_transaction


def test_a_busy_day_applied_three_tenants_per_transaction_does_exactly_what_one_transaction_does(at_date,
                                                                                                  settings):
    """A day over thousands of tenants is applied ``CLOCK_DAY_TENANTS`` tenants per transaction, so no tenant's
    rows are held long; the result is the same, to the cent and the audit row."""
    at_date("2026-06-15")
    whole, one_transaction = _in_one_transaction(settings, "2026-08-02")
    assert clock.today() == date(2026, 6, 30)
    # three, never more (the pace would grow them after quick ones) nor fewer (after slow ones on a busy machine)
    settings.CLOCK_DAY_TENANTS = settings.CLOCK_DAY_TENANTS_MOST = 3
    settings.CLOCK_DAY_TRANSACTION_SECONDS = 3_600
    assert move("2026-08-02")["events"] == whole
    assert _snapshot() == one_transaction


def test_a_day_stopped_between_two_chunks_of_tenants_goes_on_with_the_next_and_applies_none_twice(
        at_date, settings, monkeypatch):
    """The process dies after the first tenants of a busy day are applied: the clock's row says how far the
    day got, and the next applier goes on with the next tenant."""
    from django.db import transaction

    from simulation import days

    at_date("2026-06-15")
    world(3)
    move("2026-06-30")
    with transaction.atomic():
        settings.CLOCK_DAY_TENANTS, settings.CLOCK_DAY_TRANSACTION_SECONDS = 10_000, 3_600
        move("2026-07-01")
        expected = _snapshot()
        transaction.set_rollback(True)
    settings.CLOCK_DAY_TENANTS = settings.CLOCK_DAY_TENANTS_MOST = 4
    real_run, chunks = days._billing_run, []

    def dies_on_the_second_chunk(day, **kwargs):
        chunks.append(kwargs["tenants"])
        if len(chunks) == 2:
            raise KeyboardInterrupt("the worker is killed")  # not an Exception: nothing catches it on the way
        return real_run(day, **kwargs)

    monkeypatch.setattr(days, "_billing_run", dies_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        days.days_run(until=date(2026, 7, 1), move_clock=True)
    assert clock.applied_through() == date(2026, 6, 30)  # the day isn't done
    monkeypatch.setattr(days, "_billing_run", real_run)
    days.days_run(until=date(2026, 7, 1), move_clock=True)
    assert clock.applied_through() == date(2026, 7, 1)
    done = _snapshot()
    assert done["invoices"] == expected["invoices"] and done["subscriptions"] == expected["subscriptions"]
    assert done["licenses"] == expected["licenses"]
    assert sorted(done["events"]) == sorted(expected["events"])


def _chunk_sizes(monkeypatch, seconds: dict[date, float], to: str) -> tuple[list[dict], dict[date, list[int]]]:
    """A move to ``to`` whose chunks of tenants each take ``seconds[day]`` of a stand-in clock: the number of
    tenants with work in each chunk, day by day (and the move's events)."""
    from simulation import days

    real_run, real_work, now, chunks, work = days._billing_run, days.day_work, [0.0], [], {}

    def timed(day, **kwargs):
        chunks.append((day, kwargs["tenants"]))
        now[0] += seconds.get(day, 0.01)
        return real_run(day, **kwargs)

    def noted(*, day, since):
        work[day] = real_work(day=day, since=since)
        return work[day]

    monkeypatch.setattr(days, "_billing_run", timed)
    monkeypatch.setattr(days, "day_work", noted)
    monkeypatch.setattr(days, "time_monotonic", lambda: now[0])
    events = move(to)["events"]
    sizes: dict[date, list[int]] = {}
    for day, (lo, hi) in chunks:
        sizes.setdefault(day, []).append(sum(lo <= t <= hi for t in work[day].tenant_ids))
    assert all(sum(sizes[day]) == len(work[day].tenant_ids) for day in sizes)
    return events, sizes


def test_a_day_whose_transactions_run_long_is_applied_fewer_tenants_per_transaction_and_the_same(
        at_date, settings, monkeypatch):
    """No tenant's rows are held for long (issue 21: a second at most): after a transaction that held its rows
    longer than ``CLOCK_DAY_TRANSACTION_SECONDS`` the day loop applies half as many tenants in the next, and the
    next day starts no larger (then grows after quick ones: below). The result is what
    one transaction does, to the cent and the audit row. The transactions' time is a stand-in clock's: each
    chunk of the first busy day takes a second, of the next a hundredth."""
    at_date("2026-06-15")
    whole, one_transaction = _in_one_transaction(settings, "2026-07-02")
    settings.CLOCK_DAY_TENANTS, settings.CLOCK_DAY_TRANSACTION_SECONDS = 8, 0.5
    events, sizes = _chunk_sizes(monkeypatch, {date(2026, 7, 1): 1.0}, "2026-07-02")
    assert events == whole
    assert _snapshot() == one_transaction
    assert sum(sizes[date(2026, 7, 1)]) > 15
    assert sizes[date(2026, 7, 1)][:5] == [8, 4, 2, 1, 1]
    # the day after starts where the slow day left off (1 tenant), and each quick chunk at most doubles it
    assert sizes[date(2026, 7, 2)][:3] == [1, 2, 4][:len(sizes[date(2026, 7, 2)])]


def test_a_day_whose_transactions_are_quick_grows_its_chunks_to_its_budget_and_the_next_day_starts_small(
        at_date, settings, monkeypatch):
    """After a quick transaction the next is sized to take half of ``CLOCK_DAY_TRANSACTION_SECONDS`` at the
    rate the last one went, at most twice as many tenants and ``CLOCK_DAY_TENANTS_MOST``: a busy day is a few
    transactions, not one per hundred tenants. A day's weight isn't known before it starts, so each day's first
    transaction is ``CLOCK_DAY_TENANTS`` again. The result is what one transaction does."""
    at_date("2026-06-15")
    whole, one_transaction = _in_one_transaction(settings, "2026-07-02")
    settings.CLOCK_DAY_TENANTS, settings.CLOCK_DAY_TENANTS_MOST, settings.CLOCK_DAY_TRANSACTION_SECONDS = 2, 7, 0.5
    # 0.1 s a chunk: 2 tenants at that rate fit 5 in 0.25 s, but at most twice as many (4), then at most 7; the next
    # day starts at 2, and 0.45 s (over the aim, under the budget) for 2 fits 1.1 in 0.25 s: 1, never fewer.
    events, sizes = _chunk_sizes(monkeypatch, {date(2026, 7, 1): 0.1, date(2026, 7, 2): 0.45}, "2026-07-02")
    assert events == whole
    assert sizes[date(2026, 7, 1)][:4] == [2, 4, 7, 7]
    assert sizes[date(2026, 7, 2)][:3] == [2, 1, 1]
    assert _snapshot() == one_transaction


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("changes", [1, 4])
def test_a_move_reads_the_clocks_offset_once_a_day_however_many_scheduled_changes_it_runs(at_date, changes):
    """A move alone moves the clock while it runs, so each day's transactions (its chunks, each scheduled change's;
    a change run step by step, two per step) share the offset read when the day began, instead of reading it again
    in each (``days_run``)."""
    at_date("2026-09-20")
    statements = _statements_of_changes_run(changes, watermark="2026-09-25", to="2026-10-01")
    offsets = [sql for sql in statements if sql.startswith('SELECT "portal_simulationclock"."offset"')]
    assert len(offsets) == OFFSET_READS_OF_A_MOVE, "\n".join(sql[:120] for sql in offsets)


OFFSET_READS_OF_A_MOVE = 6  # the move's own transactions before and after its days, and the day's (2026-10-01); was 6 + 12 a change
