from datetime import date

import pytest

from billing.periods import billing_period, renewal_date


@pytest.mark.parametrize(("start", "term", "today", "expected"), [
    (date(2026, 1, 1), "P1Y", date(2026, 6, 15), date(2027, 1, 1)),
    (date(2026, 1, 1), "P1Y", date(2027, 1, 1), date(2028, 1, 1)),
    (date(2026, 1, 1), "P1Y", date(2026, 12, 31), date(2027, 1, 1)),
    (date(2026, 3, 10), "P1M", date(2026, 6, 15), date(2026, 7, 10)),
    (date(2026, 3, 10), "P1M", date(2026, 6, 10), date(2026, 7, 10)),
    (date(2026, 1, 31), "P1M", date(2026, 2, 15), date(2026, 2, 28)),
    (date(2026, 1, 31), "P1M", date(2026, 3, 1), date(2026, 3, 31)),
    (date(2025, 2, 1), "P3Y", date(2026, 6, 15), date(2028, 2, 1)),
    (date(2026, 7, 1), "P1Y", date(2026, 6, 15), date(2027, 7, 1)),
])
def test_renewal_date(start, term, today, expected):
    assert renewal_date(start=start, term=term, today=today) == expected


@pytest.mark.parametrize(("start", "freq", "term", "day", "expected"), [
    # The worked example of issue 4: P1Y billed monthly, 2026-06-16 is in June's period.
    (date(2026, 1, 1), "monthly", "P1Y", date(2026, 6, 16), (date(2026, 6, 1), date(2026, 7, 1))),
    (date(2026, 1, 1), "annual", "P1Y", date(2026, 6, 16), (date(2026, 1, 1), date(2027, 1, 1))),
    (date(2025, 2, 1), "annual", "P3Y", date(2026, 6, 16), (date(2026, 2, 1), date(2027, 2, 1))),
    (date(2026, 1, 31), "monthly", "P1M", date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 31))),
    (date(2026, 6, 16), "monthly", "P1Y", date(2026, 6, 16), (date(2026, 6, 16), date(2026, 7, 16))),
])
def test_billing_period(start, freq, term, day, expected):
    assert billing_period(start=start, billing_frequency=freq, term=term, day=day) == expected


def test_add_months_is_relativedeltas_for_every_day_of_four_years_and_any_number_of_months():
    """add_months is written out for speed (the day loop asks it per subscription and period): it answers
    what dateutil's relativedelta does, month ends and leap years included, forwards and back."""
    from datetime import timedelta

    from dateutil.relativedelta import relativedelta

    from billing.periods import add_months

    day = date(2027, 1, 1)
    while day < date(2031, 1, 1):
        for months in (-37, -13, -12, -1, 0, 1, 2, 3, 11, 12, 13, 36, 121):
            assert add_months(day, months) == day + relativedelta(months=months), (day, months)
        day += timedelta(days=1)
