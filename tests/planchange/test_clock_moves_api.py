"""Support's clock moves as background work through the API (docs/api.md "Support"): a request that waits
gets today's answer; one that prefers not to gets 202 and the move to follow; one real move at a time."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import Invoice
from portal import clock
from portal.models import WorkerBeat
from simulation.models import ClockMove
from simulation.moves import move_run
from tests.factories import admin_of, mosa_standard, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(support_api):
    return support_api


def test_a_request_that_waits_gets_what_happened_and_the_move_shows_it_again(at_date, support):
    at_date("2026-06-15")
    tenant, _card, _sub, _users = mosa_standard()
    answer = support.post("/api/v1/support/clock/", {"to": "2026-08-01"}, format="json")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["from"], body["to"], body["today"], body["dry_run"]) == ("2026-06-15", "2026-08-01", "2026-08-01",
                                                                          False)
    assert [(e["date"], e["kind"]) for e in body["events"]] == [
        ("2026-07-01", "invoice"), ("2026-07-02", "payment"), ("2026-08-01", "invoice")]
    shown = support.get(f"/api/v1/support/clock/moves/{body['move']}/").json()
    assert {k: shown[k] for k in ("status", "from", "to", "days_done", "days_total", "happenings", "runs")} == {
        "status": "done", "from": "2026-06-15", "to": "2026-08-01", "days_done": 47, "days_total": 47,
        "happenings": 3, "runs": 1}
    assert shown["events"] == body["events"]
    assert [m["id"] for m in support.get("/api/v1/support/clock/moves/").json()["results"]] == [body["move"]]


def test_respond_async_answers_202_with_the_move_and_a_runner_takes_it_from_there(at_date, support):
    at_date("2026-06-15")
    tenant, _card, _sub, _users = mosa_standard()
    answer = support.post("/api/v1/support/clock/", {"to": "2026-08-01"}, format="json",
                          HTTP_PREFER="respond-async")
    assert answer.status_code == 202, answer.json()
    move = answer.json()
    assert answer["Location"] == f"/api/v1/support/clock/moves/{move['id']}/" == move["url"]
    assert (move["status"], move["days_done"], move["days_total"], move["happenings"]) == ("queued", 0, 47, 0)
    assert clock.today() == date(2026, 6, 15)  # nothing moved yet: a worker runs it
    followed = support.get(move["url"]).json()
    assert (followed["status"], followed["events"]) == ("queued", None)
    assert move_run(move["id"]) == "done"  # what the worker's task does
    followed = support.get(move["url"]).json()
    assert (followed["status"], followed["days_done"], followed["happenings"]) == ("done", 47, 3)
    assert [e["kind"] for e in followed["events"]] == ["invoice", "payment", "invoice"]
    assert Invoice.objects.filter(tenant=tenant).count() == 2
    assert move_run(move["id"]) == "taken"  # done is done: a second wake-up runs nothing


def test_a_second_move_and_a_dry_run_are_refused_with_the_move_they_wait_for(at_date, support):
    at_date("2026-06-15")
    mosa_standard()
    first = support.post("/api/v1/support/clock/", {"days": 3000}, format="json", HTTP_PREFER="respond-async").json()
    second = support.post("/api/v1/support/clock/", {"days": 1}, format="json")
    assert second.status_code == 409
    problem = second.json()
    assert (problem["code"], problem["move"]) == ("clock_moving", first["id"])
    assert "0 of 3000 days done" in problem["detail"]
    # A preview while the clock moves would copy a world whose clock is somewhere on the way (the hostile
    # probe: 4 previews in 10 failed, the others listed different days).
    dry = support.post("/api/v1/support/clock/", {"days": 31, "dry_run": True}, format="json")
    assert (dry.status_code, dry.json()["code"], dry.json()["move"]) == (409, "clock_moving", first["id"])
    assert ClockMove.objects.count() == 1  # the refused ones left no row


def test_moves_are_support_staffs_alone_and_an_unknown_one_is_a_clear_404(at_date, support):
    at_date("2026-06-15")
    tenant, _card, _sub, _users = mosa_standard()
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    moved = support.post("/api/v1/support/clock/", {"days": 1}, format="json").json()
    assert admin.get("/api/v1/support/clock/moves/").status_code == 403
    assert admin.get(f"/api/v1/support/clock/moves/{moved['move']}/").status_code == 403
    missing = support.get("/api/v1/support/clock/moves/999999/")
    assert (missing.status_code, missing.json()["code"]) == (404, "clock_move_not_found")
    assert support.get("/api/v1/support/clock/moves/abc/").status_code == 404


@pytest.mark.parametrize("prefer, waits", [
    ("respond-async", 0), ("wait=5", 5), ("wait=100000", 240), ("handling=lenient, wait=7", 7), ("", 240),
    ("wait=soon", 240), ("respond-async;foo", 0), ('wait="3"', 3), ("WAIT = 4", 4),
    # The hostile probe's 500s: digits that aren't ASCII, and more digits than int() takes.
    ("wait=\u00b2", 240), ("wait=1\u00b3", 240), ("wait=\uff11", 240), ("wait=" + "9" * 4400, 240), ("wait=-5", 240)])
def test_prefer_says_how_long_a_request_waits(prefer, waits):
    from simulation.api.views import _wait

    assert _wait(prefer) == waits


def test_a_hostile_prefer_header_is_ignored_and_the_move_answers_as_usual(at_date, support):
    at_date("2026-06-15")
    mosa_standard()
    answer = support.post("/api/v1/support/clock/", {"days": 1}, format="json", HTTP_PREFER="wait=" + "9" * 4400)
    assert answer.status_code == 200 and answer.json()["to"] == "2026-06-16"
    assert ClockMove.objects.count() == 1


def test_a_request_that_runs_the_move_itself_answers_202_when_its_wait_is_up(at_date, support):
    """No worker took the move up (the broker down): the request runs it, for as long as it said it would
    wait, then answers 202 and lets go (the hostile probe: the whole move ran in the request, 500 after
    gunicorn's 300 s)."""
    import time

    at_date("2026-06-15")
    for i in range(4):
        mosa_standard(domain=f"long{i}.example")
    started = time.monotonic()
    answer = support.post("/api/v1/support/clock/", {"days": 3650}, format="json", HTTP_PREFER="wait=1")
    took = time.monotonic() - started
    assert answer.status_code == 202, answer.json()
    move = answer.json()
    assert took < 5, took  # a day or so past the wait, never the whole move
    assert move["status"] == "running" and 0 < move["days_done"] < move["days_total"] == 3650
    held = ClockMove.objects.get(pk=move["id"])
    assert held.runner == ""  # handed on: the next runner takes it at once (the sweep wakes one)
    assert move_run(move["id"]) == "done"  # the next runner (a worker) finishes it from where it stopped
    finished = support.get(move["url"]).json()
    assert (finished["status"], finished["runs"], finished["days_done"]) == ("done", 2, 3650)
    assert Invoice.objects.filter(tenant__domain="long0.example").count() == 120  # each month once


def test_a_runner_out_of_time_pauses_between_days_and_the_next_goes_on(at_date):
    from simulation.moves import move_request

    at_date("2026-06-15")
    tenant, _card, _sub, _users = mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 9, 1), wake=False)
    assert move_run(move.pk, budget=0) == "paused"  # a worker's 60 s, here none: not even one day
    move.refresh_from_db()
    assert (move.status, move.applied_through, move.happenings) == ("running", None, 0)
    assert move_run(move.pk) == "done"
    move.refresh_from_db()
    assert (move.status, move.runs, move.happenings) == ("done", 2, 5)
    assert Invoice.objects.filter(tenant=tenant).count() == 3


def test_a_big_moves_detail_lists_its_first_thousand_happenings_in_order(at_date, support, monkeypatch):
    """A ten-year move over hundreds of tenants had 299,368 happenings: its detail was 78 MB and three
    GETs at once stalled the web (the hostile probe). The detail lists the first 1,000; POST's answer, which
    a script waited for, still has them all."""
    from simulation.api import serializers

    monkeypatch.setattr(serializers, "EVENTS_SHOWN", 4)
    at_date("2026-06-15")
    for i in range(2):
        mosa_standard(domain=f"big{i}.example")
    moved = support.post("/api/v1/support/clock/", {"to": "2026-09-01"}, format="json").json()
    assert len(moved["events"]) == 10  # 2 tenants × (July, August) × invoice and payment, + September's invoices
    shown = support.get(f"/api/v1/support/clock/moves/{moved['move']}/").json()
    assert shown["happenings"] == 10
    assert shown["events"] == moved["events"][:4]


def test_a_workers_dry_run_runs_to_its_end_whatever_the_tasks_while(at_date, monkeypatch):
    """A dry run handed on starts over (its copy of the world is its connection's own): a worker's task ran a ten-year
    preview for its 60 s, handed it on, and the next started over, for ever (a hostile probe). A worker runs a dry
    run to its end; a real move still hands on after its while (it goes on where it stopped)."""
    from simulation import tasks
    from simulation.moves import move_request

    at_date("2026-06-15")
    mosa_standard()
    monkeypatch.setattr(tasks, "MOVE_TASK_BUDGET", 0.0)
    woken = []
    monkeypatch.setattr(tasks, "moves_wake", woken.extend)
    preview = move_request(actor="support@portal.local", to=date(2026, 9, 1), dry_run=True, wake=False)
    assert tasks.clock_move(preview.pk) == "done"
    preview.refresh_from_db()
    assert (preview.status, preview.runs, preview.happenings, woken) == ("done", 1, 5, [])
    move = move_request(actor="support@portal.local", to=date(2026, 9, 1), wake=False)
    assert tasks.clock_move(move.pk) == "paused" and woken == [move.pk]


def test_a_move_handed_on_is_taken_at_once_and_the_sweep_wakes_an_abandoned_one_once_a_lease(at_date, monkeypatch,
                                                                                              settings):
    from simulation import sweep
    from simulation.moves import move_request

    at_date("2026-06-15")
    mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 9, 1), wake=False)
    assert move_run(move.pk, budget=0) == "paused"
    woken = []
    monkeypatch.setattr("simulation.moves.moves_wake", woken.extend)
    sweep.sweep_run()
    assert woken == []  # handed on with its own wake-up: the sweep leaves it be for a lease
    ClockMove.objects.filter(pk=move.pk).update(lease_until=timezone.now())  # a lease later, still not taken up
    sweep.sweep_run()
    sweep.sweep_run()
    assert woken == [move.pk]  # woken once, not at each of the sweep's runs
    assert move_run(move.pk) == "done"  # the woken worker takes it at once


def test_a_request_runs_a_move_itself_only_when_no_clock_worker_answers(at_date, support):
    """A busy clock worker (another move in hand) or one that answered lately: the request waits and answers 202, its
    web process free for tenants (three such requests held every process of the web for four minutes)."""
    from portal.workers import worker_beat_record

    at_date("2026-06-15")
    mosa_standard()
    worker_beat_record(hostname="clock@host", queue="clock")
    answer = support.post("/api/v1/support/clock/", {"days": 30}, format="json", HTTP_PREFER="wait=3")
    assert answer.status_code == 202, answer.json()
    assert (answer.json()["status"], answer.json()["runs"]) == ("queued", 0)
    assert clock.today() == date(2026, 6, 15)
    # No beat for a while (a worker's task beats only between tasks), but the move is in hand: handed on by a task out
    # of time, for the worker it woke.
    WorkerBeat.objects.all().delete()
    move = ClockMove.objects.get(pk=answer.json()["id"])
    assert move_run(move.pk, budget=0) == "paused"
    again = support.get(f"/api/v1/support/clock/moves/{move.pk}/").json()
    from simulation.moves import move_await

    assert move_await(move.pk, wait=1, claim_wait=0).runs == 1 == again["runs"]  # not run here


def test_the_sweep_leaves_the_days_of_a_move_under_way_to_the_move(at_date):
    """The sweep applied part of a busy day a move had set the clock to, and the move's list missed what it did
    there (a hostile probe: 447 invoices): while a real move is under way, its days are its own."""
    from simulation import sweep
    from simulation.moves import move_request

    at_date("2026-06-15")
    tenant, _card, _sub, _users = mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 8, 1), wake=False)
    ClockMove.objects.filter(pk=move.pk).update(status="running", runner="clock@host:1:a",
                                                lease_until=timezone.now() + timedelta(seconds=20))  # in hand
    clock.set_date(date(2026, 7, 1))  # the move set the clock to a day it is about to apply
    assert sweep.sweep_run()["happened"] == []
    assert Invoice.objects.filter(tenant=tenant).count() == 0
    ClockMove.objects.filter(pk=move.pk).update(lease_until=timezone.now())  # its runner died there
    assert move_run(move.pk) == "done"  # the next one goes on
    move.refresh_from_db()
    assert move.happenings == 3 and Invoice.objects.filter(tenant=tenant).count() == 2


def test_a_move_nobody_runs_holds_up_no_tenants_days_and_a_lapsed_runner_keeps_its_move(at_date, monkeypatch):
    """With no clock worker a queued move waits; the sweep still applies the days real time reaches for everyone. A
    runner whose lease lapsed (a long copy of the world, a long scheduled change) keeps its move: the sweep only wakes
    another, which takes it if the first is gone."""
    from simulation import sweep
    from simulation.moves import move_request

    at_date("2026-06-30")
    tenant, _card, _sub, _users = mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 9, 1), wake=False)
    clock.set_date(date(2026, 7, 1))  # real time reached the 1st
    monkeypatch.setattr("simulation.moves.moves_wake", lambda ids: None)
    assert [e["kind"] for e in sweep.sweep_run()["happened"]] == ["invoice"]
    ClockMove.objects.filter(pk=move.pk).update(status="running", runner="clock@host:1:a", lease_until=timezone.now())
    assert sweep.sweep_run()["clock_moves_resumed"] == [move.pk]
    assert ClockMove.objects.get(pk=move.pk).runner == "clock@host:1:a"


def test_a_preview_taken_up_while_a_real_move_is_under_way_is_refused_with_why(at_date, support):
    """A preview asked for before a real move started, and taken up by a worker while it runs: its copy would be of a
    half-moved world (or one already past its target): it ends at once, failed, and says so; no error for the logs."""
    from simulation.moves import move_failed_text, move_request

    at_date("2026-06-15")
    mosa_standard()
    preview = move_request(actor="support@portal.local", to=date(2026, 7, 15), dry_run=True, wake=False)
    real = move_request(actor="other@portal.local", to=date(2026, 9, 1), wake=False)
    assert move_run(preview.pk) == "done"  # ended: nothing raised
    preview.refresh_from_db()
    assert (preview.status, preview.happenings) == ("failed", 0)
    assert move_failed_text(preview) == ("The clock moved after this preview was asked for (to 2026-09-01 by "
                                         "other@portal.local); preview again.")
    answer = support.get(f"/api/v1/support/clock/moves/{preview.pk}/", HTTP_ACCEPT_LANGUAGE="sv").json()
    assert answer["status"] == "failed"
    assert move_run(real.pk) == "done" and clock.today() == date(2026, 9, 1)
    # One asked for before a real move that has finished since: as stale.
    late = move_request(actor="support@portal.local", to=date(2026, 12, 1), dry_run=True, wake=False)
    done = move_request(actor="other@portal.local", to=date(2026, 10, 1), wake=False)
    assert move_run(done.pk) == "done"
    assert move_run(late.pk) == "done"
    late.refresh_from_db()
    assert late.status == "failed", late.error
    from django.utils import translation

    with translation.override("en"):
        assert move_failed_text(late) == ("The clock moved after this preview was asked for (to 2026-10-01 by "
                                          "other@portal.local); preview again.")
