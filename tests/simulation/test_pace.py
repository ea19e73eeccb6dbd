"""The day loop's pace (``simulation.days.Pace``): each transaction of a day sized by the rate of the tenants the
last one held, so that none holds its rows for long."""

from simulation.days import Pace


def test_the_next_transaction_is_sized_by_the_tenants_the_last_one_held_not_by_the_most_it_could_hold(settings):
    """A day's last transaction, or one taken up midway, holds fewer tenants than asked for: its rate is theirs.
    400 asked, 50 held in 0.2 s (4 ms a tenant): half of 0.5 s fits 62, not the 500 that 400 in 0.2 s would."""
    settings.CLOCK_DAY_TENANTS, settings.CLOCK_DAY_TENANTS_MOST, settings.CLOCK_DAY_TRANSACTION_SECONDS = 100, 500, 0.5
    pace = Pace()
    pace.tenants = 400
    pace.took(0.2, 50)
    assert pace.tenants == 62
    pace.took(0.05, 62)  # quick: at most twice as many
    assert pace.tenants == 124
    pace.took(0.6, 124)  # over the budget: half as many as it held
    assert pace.tenants == 62
    pace.day_starts()
    assert pace.tenants == 62  # the next day starts no larger
    pace.tenants = 500
    pace.day_starts()
    assert pace.tenants == 100  # nor larger than a day's first transaction
