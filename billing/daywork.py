"""What a day holds, and for whom, asked once before the day loop applies it (``simulation.days``).

A day is applied a few tenants per transaction, and each transaction asks every step of the day's billing
(trials, periods, card charges, payments by habit, refunds, the lifecycle, invoices past due) for its rows:
most steps find nothing on most days, yet each asking costs a query to build and run, in every chunk.
``day_work`` asks every step at once, in one statement (and one for the payment habits it names), for the
whole day which tenants it has rows for (each step's own ``*_due`` filter, the one its run uses): the day is
then cut into chunks of the tenants that have work, and a step with nothing due for anyone is not asked at all.

A step can make another's rows due the same day, within the same tenant: a trial converted today is billed
today; a period billed today for a past start (one a plan change held) can be charged, paid, past due or
expired that day. So a step is idle only when nothing it depends on has work either (``MAKES_DUE``); every
such effect stays within its tenant, so the tenants with work are still the union of the steps' own.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Value

from billing.due import (
    card_charges_due,
    disabled_due,
    expired_due,
    overdue_due,
    periods_due,
    refunds_due,
)
from billing.habits import habit_payments_due
from billing.models import Invoice, InvoiceLine, Subscription
from billing.trials import trials_due
from portal.bulk import statistics_refresh

TRIALS, PERIODS, CARD_CHARGES, HABITS, REFUNDS, LIFECYCLE, OVERDUE = (
    "trials", "periods", "card_charges", "habits", "refunds", "lifecycle", "overdue")
STEPS = (TRIALS, PERIODS, CARD_CHARGES, HABITS, REFUNDS, LIFECYCLE, OVERDUE)

# What a step's rows can make due the same day, for the same tenant (see the module's docstring).
MAKES_DUE = {
    TRIALS: {PERIODS, LIFECYCLE},  # converted: billed today; expired for a past end: disabled today
    PERIODS: {CARD_CHARGES, HABITS, OVERDUE, LIFECYCLE},  # an invoice for a past period; a past term's end
}


@dataclass(frozen=True)
class DayWork:
    """``tenant_ids``: the tenants any step has rows for (sorted); ``idle``: the steps nobody needs today."""

    tenant_ids: list[int]
    idle: frozenset[str]


def day_work(*, day: date, since: date) -> DayWork:
    """What ``day`` holds (the last day applied was ``since``): two queries (the payers' habits, then every step's
    tenants at once), whatever the tenants."""
    due = {
        TRIALS: [trials_due(day=day)],
        PERIODS: [periods_due(day=day)],
        CARD_CHARGES: [card_charges_due(day=day)],
        HABITS: [habit_payments_due(day=day, since=since)],
        REFUNDS: [refunds_due(day=day)],
        LIFECYCLE: [expired_due(day=day), disabled_due(day=day)],
        OVERDUE: [overdue_due(day=day)],
    }
    # Asked in one statement: each step's tenants, labelled with the step (UNION ALL of the steps' questions).
    asked = [queryset.order_by().annotate(day_step=Value(step)).values_list("tenant_id", "day_step").distinct()
             for step, querysets in due.items() for queryset in querysets]
    tenants: set[int] = set()
    busy: set[str] = set()
    for tenant_id, step in asked[0].union(*asked[1:], all=True):
        tenants.add(tenant_id)
        busy.add(step)
    for step in (TRIALS, PERIODS):  # in the day's order: a trial makes periods busy, which make others busy
        if step in busy:
            busy |= MAKES_DUE[step]
    return DayWork(tenant_ids=sorted(tenants), idle=frozenset(STEPS) - busy)


def day_statistics_refresh() -> list[str]:
    """The day's questions are asked of billing's invoices, their lines and the subscriptions, which a long move
    grows many times over: their statistics refreshed where they have gone stale (``portal.bulk``)."""
    return statistics_refresh([Invoice, InvoiceLine, Subscription])
