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
