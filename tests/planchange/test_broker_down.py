"""The database decides, the broker only wakes: a change requested while the web server's
broker is down is committed with its idempotency record and answered 202 within seconds;
the same key replays the same 202; the sweep wakes a worker for it once no worker has
claimed it within PLANCHANGE_UNCLAIMED_SECONDS."""

import json
import logging
import socket
import time
import urllib.request
from datetime import date

import pytest
from django.test import override_settings

from planchange.dispatch import change_wake
from planchange.models import IdempotencyRecord, PlanChange
from planchange.sweep import stalled_changes_requeue
from portal import clock
from simulation.sweep import sweep_run
from tests.factories import admin_of, mosa_standard, token_for
from tests.worker import celery_worker, wait_for, web_server

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused


def post(url, path, body, *, token, key) -> tuple[int, dict, float]:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST", headers={  # noqa: S310
        "Authorization": f"Token {token}", "Content-Type": "application/json", "Idempotency-Key": key})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own test server
            return response.status, json.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), time.monotonic() - started


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_change_requested_while_the_broker_is_down_is_202_and_runs_when_the_sweep_wakes_a_worker(tmp_path):
    clock.set_date(date(2026, 6, 16))
    tenant, card, std, users = mosa_standard(users=5)
    token = token_for(admin_of(tenant))
    body = {"subscription": std.pk, "target_sku": "SPB"}
    with web_server(tmp_path / "web.log", CELERY_BROKER_URL=DEAD_BROKER) as url:
        status, first, seconds = post(url, "/api/v1/plan-changes/", body, token=token, key="broker-down")
        replay_status, replay, _seconds = post(url, "/api/v1/plan-changes/", body, token=token, key="broker-down")
    assert (status, first["status"]) == (202, "queued"), first
    assert seconds < 5  # the broker is tried for seconds, not a minute
    assert (replay_status, replay) == (202, first)  # the same key replays the same 202, not a 409
    assert PlanChange.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="broker-down").response_body["id"] == first["id"]
    assert f"could not wake a worker for plan change {first['id']}; the sweep will" in (tmp_path / "web.log").read_text()
    # The broker is back (the suite's own); beat's sweep wakes a worker for the unclaimed change.
    with celery_worker(tmp_path / "worker.log"):
        def done():
            sweep_run()
            return PlanChange.objects.get(pk=first["id"]).status in ("completed", "failed")

        wait_for(done, timeout=60, interval=1.0, what="the sweep to wake a worker for the change")
    change = PlanChange.objects.get(pk=first["id"])
    assert change.status == "completed"
    assert change.new_subscription.assigned_licenses == 5


@pytest.mark.django_db
@pytest.mark.parametrize("broker", ["refuses", "hangs"])
def test_a_failed_wake_is_logged_not_raised_and_bounded(caplog, settings, broker):
    """A broker that refuses connections fails at once; one that accepts and never answers (a hung
    Redis) is given up on after seconds, not the minute a request would wait by default."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)  # the kernel accepts connections; nobody ever reads or answers
        settings.CELERY_BROKER_URL = DEAD_BROKER if broker == "refuses" else f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="planchange.dispatch"):
            assert change_wake(12345) is False
        assert time.monotonic() - started < 6
    assert caplog.messages == ["could not wake a worker for plan change 12345; the sweep will"]


@pytest.mark.django_db
def test_the_sweep_wakes_queued_changes_no_worker_claimed_within_the_setting():
    from tests.factories import PlanChangeFactory

    change = PlanChangeFactory(status="queued")
    with override_settings(PLANCHANGE_UNCLAIMED_SECONDS=5):
        assert stalled_changes_requeue() == []  # just queued: a worker may be about to take it
        PlanChange.objects.filter(pk=change.pk).update(updated_at=change.updated_at.replace(year=2020))
        assert stalled_changes_requeue() == [change.pk]
        assert stalled_changes_requeue() == []  # woken: not again until the period passes


@pytest.mark.django_db(transaction=True)
def test_the_sweep_neither_waits_on_nor_wakes_a_change_whose_row_another_transaction_holds(settings):
    """The day loop runs a scheduled change it started in one transaction (``workflow.run_at_once``): queued until
    it commits. The sweep skips a change whose row is locked (someone is working on it) instead of waiting for it
    while it holds the other changes' rows, and wakes it later if it still needs a worker."""
    import threading

    from django.db import connection, transaction

    from tests.factories import PlanChangeFactory

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite locks the whole database, not rows")
    held, other = PlanChangeFactory(status="queued"), PlanChangeFactory(status="queued")
    PlanChange.objects.update(updated_at=held.updated_at.replace(year=2020))
    locked, release = threading.Event(), threading.Event()

    def working_on_it():
        with transaction.atomic():
            PlanChange.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=working_on_it)
    worker.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert stalled_changes_requeue() == [other.pk]
        assert time.monotonic() - started < 2
    finally:
        release.set()
        worker.join(10)
    assert stalled_changes_requeue() == [held.pk]  # still queued once let go: woken now
