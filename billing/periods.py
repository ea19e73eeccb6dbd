"""Subscription terms and billing periods as pure date arithmetic.

Periods are counted from the start date (never chained), so a term started on the
31st renews on the last day of shorter months and goes back to the 31st after.
"""

from calendar import monthrange
from datetime import date

from billing.models.catalog import BillingFrequency, Term

TERM_MONTHS = {Term.P1M: 1, Term.P1Y: 12, Term.P3Y: 36}
FREQUENCY_MONTHS = {BillingFrequency.MONTHLY: 1, BillingFrequency.ANNUAL: 12}

# MCA: licenses are removed, and a subscription cancelled with a credit, only within this many days of
# its start or renewal (or of buying the licenses); later they wait for the renewal.
MCA_CANCEL_WINDOW_DAYS = 7


def months_per_period(*, term: str, billing_frequency: str) -> int:
    """The months one billing period covers: a monthly commitment (P1M) is billed monthly whatever its
    frequency says; otherwise a month or a year, by its frequency."""
    return 1 if term == Term.P1M else FREQUENCY_MONTHS[billing_frequency]


def billing_frequency_for(*, term: str, chosen: str | None, current: str) -> str:
    """The billing frequency an order for ``term`` gets: what was ``chosen``, else monthly for a monthly
    commitment (P1M), else the ``current`` subscription's."""
    if chosen:
        return chosen
    return BillingFrequency.MONTHLY if term == Term.P1M else current


def add_months(day: date, months: int) -> date:
    """``day`` ``months`` later (or earlier), on the month's last day when it has fewer days: as
    ``relativedelta(months=…)`` does, without its cost (the day loop asks this per subscription and period)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


def _period_index(start: date, step_months: int, day: date) -> int:
    """The largest k ≥ 0 with ``start + k·step ≤ day`` (0 when ``day`` is before ``start``)."""
    if day < start:
        return 0
    k = ((day.year - start.year) * 12 + day.month - start.month) // step_months
    while k > 0 and add_months(start, k * step_months) > day:
        k -= 1
    while add_months(start, (k + 1) * step_months) <= day:
        k += 1
    return k


def current_term_start(*, start: date, term: str, today: date) -> date:
    """The date the term ``today`` is in began (the start or the last renewal)."""
    months = TERM_MONTHS[term]
    return add_months(start, _period_index(start, months, today) * months)


def renewal_date(*, start: date, term: str, today: date) -> date:
    """The date the current term ends and the subscription renews (or expires)."""
    months = TERM_MONTHS[term]
    return add_months(start, (_period_index(start, months, today) + 1) * months)


def billing_period(*, start: date, billing_frequency: str, term: str, day: date) -> tuple[date, date]:
    """The billed period ``[begin, end)`` containing ``day``.

    A P1M term is billed monthly whatever its frequency says.
    """
    months = months_per_period(term=term, billing_frequency=billing_frequency)
    k = _period_index(start, months, day)
    return add_months(start, k * months), add_months(start, (k + 1) * months)


def period_end(*, start: date, billing_frequency: str, term: str, begin: date) -> date:
    """The end (exclusive) of the billing period that begins on ``begin``."""
    return billing_period(start=start, billing_frequency=billing_frequency, term=term, day=begin)[1]


def term_ends_on(*, start: date, term: str, day: date) -> bool:
    """Whether a term of the subscription started on ``start`` ends on ``day`` (so it renews or
    expires that day)."""
    if day <= start:
        return False
    months = TERM_MONTHS[term]
    k = _period_index(start, months, day)
    return add_months(start, k * months) == day
