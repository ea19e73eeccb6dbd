import contextlib
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal import clock

pytestmark = pytest.mark.django_db


def test_without_an_offset_the_clock_is_real_time():
    assert clock.today() == timezone.now().date()


def test_set_date_moves_today_and_keeps_time_of_day():
    clock.set_date(date(2026, 6, 15))
    assert clock.today() == date(2026, 6, 15)
    days = (clock.now() - timezone.now()).total_seconds() / 86400
    assert abs(days - round(days)) < 0.001  # whole days: the time of day is kept


def test_advance_by_days_and_business_days():
    clock.set_date(date(2026, 6, 12))  # a Friday
    assert clock.advance(business_days=2) == date(2026, 6, 16)  # Monday, Tuesday
    assert clock.advance(days=3) == date(2026, 6, 19)
    assert clock.today() == date(2026, 6, 19)


def test_the_clock_never_goes_back():
    with pytest.raises(ValueError):
        clock.advance(days=-1)


@pytest.mark.parametrize(("start", "n", "expected"), [
    (date(2026, 6, 15), 2, date(2026, 6, 17)),   # Mon → Wed
    (date(2026, 6, 18), 2, date(2026, 6, 22)),   # Thu → Mon
    (date(2026, 6, 20), 1, date(2026, 6, 22)),   # Sat → Mon
    (date(2026, 6, 19), 0, date(2026, 6, 19)),
])
def test_business_days_are_monday_to_friday(start, n, expected):
    assert clock.add_business_days(start, n) == expected


def test_offset_is_shared_through_the_database():
    from portal.models import SimulationClock

    clock.set_date(timezone.now().date() + timedelta(days=10))
    assert SimulationClock.objects.get(pk=1).offset == timedelta(days=10)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 6, 17), date(2026, 6, 15)),  # Wed: Monday's are due
    (date(2026, 6, 16), date(2026, 6, 14)),  # Tue: Friday's and the weekend's
    (date(2026, 6, 15), date(2026, 6, 11)),  # Mon: Thursday's
    (date(2026, 6, 20), date(2026, 6, 17)),  # Sat: Wednesday's (Thursday's end on Monday)
])
def test_latest_start_due_agrees_with_add_business_days(day, expected):
    assert clock.latest_start_due(day, 2) == expected
    assert clock.add_business_days(expected, 2) <= day
    assert clock.add_business_days(expected + timedelta(days=1), 2) > day


@pytest.mark.django_db
def test_a_transaction_reads_the_offset_once_and_sees_its_own_moves(django_assert_num_queries):
    clock.set_date(date(2026, 6, 15))
    with transaction.atomic():
        clock.now()
        with django_assert_num_queries(0):  # the day loop asks for now() per event
            assert clock.today() == date(2026, 6, 15)
        clock.set_date(date(2026, 7, 1))
        assert clock.today() == date(2026, 7, 1)
    with contextlib.suppress(RuntimeError), transaction.atomic():
        clock.set_date(date(2027, 1, 1))
        assert clock.today() == date(2027, 1, 1)
        raise RuntimeError  # rolled back: the offset it read goes with it
    assert clock.today() == date(2026, 7, 1)


@pytest.mark.django_db
def test_the_day_loop_locks_the_clocks_row_in_one_statement_and_makes_it_on_a_new_portal(django_assert_num_queries):
    from portal.models import SimulationClock

    SimulationClock.objects.all().delete()
    with transaction.atomic():
        assert clock.applied_lock() is None  # a new portal: the row is made, then locked
    assert SimulationClock.objects.filter(pk=1).exists()
    clock.set_date(date(2026, 6, 15))
    with transaction.atomic():
        clock.mark_tenants_applied(date(2026, 6, 15), 7)
        with django_assert_num_queries(1):  # each of the day loop's transactions starts with it
            assert clock.day_progress_lock() == (None, date(2026, 6, 15), 7)
        with django_assert_num_queries(1):
            assert clock.applied_lock() is None
