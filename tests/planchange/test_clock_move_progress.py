"""A move's progress, noted in the transaction that applies each day: one statement checks that the runner
still holds the move and notes how far it got (``simulation.moves._recorder``); the day's happenings go on a
row numbered by the runner's own count, which each runner starts from the move's row."""

import time
from datetime import date

import pytest

from billing.models import Invoice
from portal import clock
from simulation import days, moves
from simulation.models import ClockMove, ClockMoveHappening
from simulation.moves import move_request, move_run
from tests.factories import mosa_standard

pytestmark = pytest.mark.django_db


def _numbered(move: ClockMove) -> list[tuple[int, int]]:
    return list(ClockMoveHappening.objects.filter(move=move).order_by("seq").values_list("seq", "data"))


def _consecutive(move: ClockMove) -> bool:
    """Each row of happenings starts where the one before ended, and the move counts them all."""
    counted = 0
    for seq, data in _numbered(move):
        if seq != counted:
            return False
        counted += len(data)
    return counted == move.happenings


def test_a_runner_that_lost_its_lease_stops_and_the_day_it_was_applying_rolls_back(at_date, monkeypatch):
    at_date("2026-06-15")
    tenant, _card, _sub, _users = mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 9, 1), wake=False)
    real = moves._recorder

    def taken_over_after_the_first_day(move, runner):
        record = real(move, runner)
        days = []

        def noted(day, happened):
            record(day, happened)
            days.append(day)
            if len(days) == 1:  # another runner took the move over meanwhile (this one was silent too long)
                ClockMove.objects.filter(pk=move.pk).update(runner="another:1:abc")

        return noted

    monkeypatch.setattr(moves, "_recorder", taken_over_after_the_first_day)
    assert move_run(move.pk) == "taken"
    move.refresh_from_db()
    assert (move.applied_through, move.happenings) == (date(2026, 7, 1), 1)  # July's invoice, the first day
    assert clock.applied_through() == date(2026, 7, 1)  # July 2nd's card charge rolled back with its day
    assert Invoice.objects.filter(tenant=tenant, paid=0).count() == 1
    assert _consecutive(move)


def test_a_dry_run_stopped_and_taken_up_again_numbers_its_happenings_from_the_start(at_date, monkeypatch):
    at_date("2026-06-15")
    mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 9, 1), dry_run=True, wake=False)
    now = [time.monotonic()]
    real = moves._recorder

    def out_of_time_after_the_first_day(move, runner):
        record = real(move, runner)

        def noted(day, happened):
            record(day, happened)
            now[0] += 3600  # the runner's time is up: it stops before the next day

        return noted

    monkeypatch.setattr(days, "time_monotonic", lambda: now[0])
    monkeypatch.setattr(moves, "_recorder", out_of_time_after_the_first_day)
    assert move_run(move.pk, budget=60) == "paused"
    move.refresh_from_db()
    assert move.happenings == 1
    monkeypatch.undo()
    assert move_run(move.pk) == "done"  # a dry run interrupted starts over, counting from nothing
    move.refresh_from_db()
    assert (move.status, move.runs, move.happenings) == ("done", 2, 5)
    assert _consecutive(move)
