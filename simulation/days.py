"""Time passing for every tenant: the day loop (DESIGN.md "Time and the subscription lifecycle").

The clock's row keeps the last day applied. ``days_run(until)`` applies every day after it up
to ``until`` on which something falls due, in date order, and each day in one fixed order
(``portal.happenings.KINDS``): provisioning and credit checks, then the plan changes scheduled
for that day (run here, so a change at renewal replaces its subscription before it would
renew), then trials that end (converted or expired), then billing periods and renewals,
card charges, invoice payers paying by habit (``billing.habits``) and refunds, then the lifecycle
(termination after billing on a boundary day), then invoices falling past due. Days on which
nothing falls due are skipped with a handful of queries in all, whatever the number of
tenants; every effect is keyed by its own date, so a jump of two years equals 730 jumps of a
day. A move of the clock (``simulation.moves``) sets the clock to each such day in turn, so the
audit trail and the workflow see the day they happen on; the beat's sweep applies days real time
has reached.

The loop decides only the order: each app writes its own rows through its own services
(billing's lifecycle, licensing's removals, planchange's scheduled changes and workflow).
"""

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic as time_monotonic

from django.conf import settings
from django.db import transaction

from billing.daywork import (
    CARD_CHARGES,
    HABITS,
    LIFECYCLE,
    OVERDUE,
    PERIODS,
    REFUNDS,
    TRIALS,
    day_statistics_refresh,
    day_work,
)
from billing.habits import habit_payments_run
from billing.lifecycle import (
    billing_periods_run,
    card_charges_run,
    lifecycle_run,
    next_due,
    overdue_run,
    provisioning_finish_due,
    refunds_run,
    subscriptions_delete,
)
from billing.offers import catalog_pinned
from billing.selectors import credit_checks_next_due
from billing.services import credit_checks_complete_due
from billing.trials import trials_end_run
from licensing.services import licenses_remove_all_of
from planchange import workflow
from planchange.scheduled import (
    scheduled_changes_happenings,
    scheduled_changes_next_due,
    scheduled_changes_start_due,
)
from planchange.together import changes_run_together
from portal import clock
from portal.happenings import KINDS, Happening, Kind
from portal.selectors import TENANT_ID_END, tenant_id_ranges

log = logging.getLogger(__name__)

# Told, inside the transaction that marks a day applied, the day and what happened on it.
Recorder = Callable[[date, list[Happening]], None]


def provisioning_now() -> list[Happening]:
    """Subscriptions whose set-up time is up by now (the beat, between days)."""
    with transaction.atomic():
        return provisioning_finish_due(day=clock.today(), until=clock.now())


def day_next(after: date) -> date | None:
    """The first day after ``after`` on which anything falls due."""
    candidates = [next_due(after), credit_checks_next_due(after), scheduled_changes_next_due(after)]
    due = [d for d in candidates if d is not None]
    return min(due) if due else None


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(microseconds=1)


def _scheduled_changes_run(day: date, started: list[int]) -> list[Happening]:
    """Run the scheduled changes started on ``day``: together, set-based, where they can be
    (``planchange.together``); the rest each in one transaction where it can be (``workflow.run_at_once``), else
    step by step."""
    for change_id in changes_run_together(started):
        try:
            workflow.run_at_once(change_id)
        except workflow.TRANSIENT:  # the sweep wakes a worker for it within seconds
            log.warning("scheduled change %s hit a transient error; a worker will finish it", change_id)
    return scheduled_changes_happenings(started, day)


def _billing_run(day: date, *, since: date, tenants: tuple[int, int] | None = None,
                 idle: frozenset[str] = frozenset()) -> list[Happening]:
    """The day's billing and lifecycle, in their order, for the tenants with ids in ``tenants`` (first,
    last; all when None), the steps in ``idle`` (nothing due for anyone: ``billing.daywork``) left out. Call
    with the clock's row locked."""
    happened: list[Happening] = []
    if TRIALS not in idle:
        happened += trials_end_run(day=day, tenants=tenants)  # a trial converted today is charged below, today
    if PERIODS not in idle:
        happened += billing_periods_run(day=day, tenants=tenants)
    if CARD_CHARGES not in idle:
        happened += card_charges_run(day=day, tenants=tenants)
    if HABITS not in idle:
        happened += habit_payments_run(day=day, since=since, tenants=tenants)
    if REFUNDS not in idle:
        happened += refunds_run(day=day, tenants=tenants)
    if LIFECYCLE not in idle:
        moved, to_delete = lifecycle_run(day=day, tenants=tenants)
        happened += moved
        if to_delete:  # licensing removes their licenses, then billing deletes them: each set-based
            removed = licenses_remove_all_of(subscription_ids=[sub.pk for sub in to_delete], actor="system",
                                             reason="the subscription was deleted")
            happened += subscriptions_delete(to_delete, removed=removed)
    if OVERDUE not in idle:
        happened += overdue_run(day=day, tenants=tenants)
    return happened


def _in_order(happened: list[Happening]) -> list[Happening]:
    """The day's order: by kind, then by tenant (a day applied a chunk of tenants at a time lists the same),
    then as it happened."""
    return sorted(happened, key=lambda h: (KINDS.index(h.kind), h.tenant_id))


class Pace:
    """How many tenants the day loop applies per transaction. A day starts at ``CLOCK_DAY_TENANTS`` (or fewer, where
    the move's last transaction left it lower); after each transaction the next is sized to take half of
    ``CLOCK_DAY_TRANSACTION_SECONDS`` at the rate the last one's tenants went, at most twice as many tenants and
    ``CLOCK_DAY_TENANTS_MOST`` (or ``CLOCK_DAY_TENANTS`` where that is more), and half as many after one that held
    its rows longer than that. A busy day of a thousand tenants is then a few transactions, not ten, each of them
    short, with room for tenants heavier than the last ones; a day late in a long move, with years of invoices behind
    each tenant, or on a busy machine, costs more per tenant than an early one: the chunks shrink so that no tenant's
    rows are held for long, and the next day starts no larger. One pace lasts a whole move (``days_run``)."""

    AIM = 0.5  # of the budget: the next transaction's aim, leaving room for heavier tenants than the last ones

    def __init__(self):
        self.tenants = max(settings.CLOCK_DAY_TENANTS, 1)

    def day_starts(self) -> None:
        """A new day, of a weight not known yet: no more than ``CLOCK_DAY_TENANTS`` in its first transaction."""
        self.tenants = min(self.tenants, max(settings.CLOCK_DAY_TENANTS, 1))

    def took(self, seconds: float, tenants: int) -> None:
        """The last transaction applied ``tenants`` (at most ``self.tenants``: a day's last, or one taken up midway,
        may hold fewer) in ``seconds``."""
        budget = settings.CLOCK_DAY_TRANSACTION_SECONDS
        most = max(settings.CLOCK_DAY_TENANTS_MOST, settings.CLOCK_DAY_TENANTS, 1)
        held = max(min(tenants, self.tenants), 1)
        if seconds > budget:
            self.tenants = max(held // 2, 1)
        else:
            aimed = int(held * budget * self.AIM / seconds) if seconds > 0 else self.tenants * 2
            self.tenants = max(min(aimed, self.tenants * 2, most), held // 2, 1)


def _billing_in_chunks(day: date, *, since: date, first: list[Happening], record: Recorder | None,
                       pace: Pace) -> list[Happening]:
    """The day's billing, ``pace.tenants`` tenants per transaction (each first locks the clock's row,
    whose ``applying_*`` say how far the day got: a day interrupted goes on with the next tenant, never
    applies a tenant twice; the last chunk marks the day applied). ``first``: what the day did before billing,
    recorded with the first chunk. The chunks count only the tenants with work today, and steps with nothing due
    are not asked (``day_work``)."""
    happened: list[Happening] = []
    work = day_work(day=day, since=since)
    pace.day_starts()
    for lo, hi in tenant_id_ranges(work.tenant_ids, lambda: pace.tenants):
        began = time_monotonic()
        with transaction.atomic():
            applied, applying, through = clock.day_progress_lock()
            if applied is not None and applied >= day:
                break  # another applier finished the day meanwhile (what this one did first is recorded below)
            if applying == day and through is not None:
                if through >= hi:
                    continue
                lo = max(lo, through + 1)
            tenants = bisect_right(work.tenant_ids, hi) - bisect_left(work.tenant_ids, lo)
            with clock.offset_pinned():  # the clock's row is locked: read its offset once, not per event
                chunk = _billing_run(day, since=max(since, applied or since), tenants=(lo, hi), idle=work.idle)
            if hi == TENANT_ID_END:  # the day's last tenants (the last range is open-ended): the day is applied
                clock.mark_applied(day)
            else:
                clock.mark_tenants_applied(day, hi)
            if record is not None:
                record(day, _in_order(first + chunk))
                first = []
        pace.took(time_monotonic() - began, tenants)
        happened += chunk
        if hi == TENANT_ID_END:
            return happened
    with transaction.atomic():
        applied = clock.applied_lock()
        if applied is None or applied < day:
            clock.mark_applied(day)
        if record is not None and first:
            record(day, _in_order(first))
    return happened


def day_apply(day: date, *, since: date, record: Recorder | None = None, pace: Pace | None = None) -> list[Happening]:
    """Apply what falls due on ``day`` (the previous day applied was ``since``), in the day's order;
    ``record`` is told what happened inside the transactions that apply it; ``pace``: the move's (``Pace``)."""
    happened: list[Happening] = []
    until = clock.now() if day >= clock.today() else _end_of(day)
    # Each transaction first locks the clock's row: one applier at a time (the beat's sweep and a support
    # move may reach the same day), and a day already applied is skipped. When taken, that row comes
    # before the subscriptions in the lock order.
    with transaction.atomic():
        applied = clock.applied_lock()
        if applied is not None and applied >= day:
            return []
        happened += provisioning_finish_due(day=day, until=until)
        happened += credit_checks_complete_due(day=day)
        started = scheduled_changes_start_due(day=day)
    happened += _scheduled_changes_run(day, started)
    happened += _billing_in_chunks(day, since=since, first=list(happened), record=record, pace=pace or Pace())
    return _in_order(happened)


class Paused(Exception):  # noqa: N818 - a pause, not an error
    """The runner's time is up: raised between two days (nothing half-done), the move goes on later."""


def days_run(*, until: date, move_clock: bool, record: Recorder | None = None,
             deadline: float | None = None) -> list[Happening]:
    """Apply every day up to ``until`` on which something falls due. With ``move_clock`` the clock
    is set to each such day first (a support move); without, it is where real time has it. ``record``
    (a move's progress) is told each day's happenings in the transaction that applies it. Past ``deadline``
    (``time.monotonic()``), ``Paused`` is raised before the next day."""
    with transaction.atomic():
        applied = clock.applied_lock()
        if applied is None:  # the first sweep of a new portal: time starts today, nothing earlier is replayed
            applied = min(clock.today(), until) - timedelta(days=1)
            clock.mark_applied(applied)
    happened: list[Happening] = []
    pace, checked = Pace(), 0
    with catalog_pinned():  # every period billed and scheduled change run reads the same catalog: once
        # Every day after ``applied`` is after ``until`` once ``applied`` has reached it: nothing to ask (a move's
        # start, which the sweep has usually applied already).
        while applied < until:
            day = day_next(applied)
            if day is None or day > until:
                break
            if deadline is not None and time_monotonic() >= deadline:
                raise Paused(day)
            if settings.CLOCK_STATISTICS_HAPPENINGS and len(happened) >= checked:  # at the start, then every so many
                day_statistics_refresh()
                checked = len(happened) + settings.CLOCK_STATISTICS_HAPPENINGS
            if move_clock and day > clock.today():
                clock.set_date(day)
            # A move alone moves the clock while it runs (one real move at a time; a dry run's clock is its own
            # copy's): its offset is read once a day, not in each of the day's transactions (its chunks of tenants,
            # its scheduled changes). The sweep, which doesn't move it, reads it as any transaction does.
            with clock.offset_pinned() if move_clock else nullcontext():
                happened += day_apply(day, since=applied, record=record, pace=pace)
            applied = day
    if applied < until:
        with transaction.atomic():
            if (clock.applied_lock() or applied) < until:
                clock.mark_applied(until)
    return happened


def changes_started(events: list[dict]) -> list[int]:
    """The ids of the scheduled changes the day loop started, from its list of events."""
    return [int(e["ref"].split("/")[1]) for e in events if e["kind"] == Kind.PLAN_CHANGE]
