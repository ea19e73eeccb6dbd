"""Workers you can see (issue 21): the support pages say whether plan-change and webhook workers answer,
with a banner when none of a queue has answered for a minute while work waits; the API says the same."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal.celery import app
from portal.models import WorkerBeat
from portal.workers import worker_beat_record
from tests.factories import admin_of, mosa_standard, token_for, webhook_endpoint
from tests.helpers import page_text
from tests.worker import celery_worker, wait_for
from webhooks.models import Delivery

PLAN_CHANGES_SILENT = {
    "en": "No plan-change worker has answered for a minute. 1 plan change is waiting for one.",
    "sv": "Ingen arbetsprocess för planändringar har svarat på en minut. 1 planändring väntar på en.",
}
WEBHOOKS_SILENT = {
    "en": "No webhook worker has answered for a minute. 2 webhook deliveries are waiting for one.",
    "sv": "Ingen arbetsprocess för webhooks har svarat på en minut. 2 webhook-leveranser väntar på en.",
}


@pytest.fixture
def work_waits(at_date):
    """A plan change queued whose message never reached a worker, and two webhook deliveries due."""
    at_date("2026-06-15")
    tenant, _, std, _ = mosa_standard(users=3)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=std.pk, target_sku="SPB")
    assert change.status == PlanChange.Status.QUEUED  # its message is never sent, or purged (tests/worker.py)
    endpoint = webhook_endpoint(tenant)
    for n in range(2):
        Delivery.objects.create(endpoint=endpoint, message_id=f"msg_{n}", type="plan_change.completed", body="{}",
                                next_attempt_at=timezone.now() - timedelta(seconds=5))
    Delivery.objects.create(endpoint=endpoint, message_id="msg_later", type="plan_change.completed", body="{}",
                            next_attempt_at=timezone.now() + timedelta(minutes=5))  # a retry not due: no work yet
    return change


def support_page(client, path: str = "/support/", language: str = "en") -> str:
    client.cookies.load({"django_language": language})
    return page_text(client.get(path, HTTP_ACCEPT_LANGUAGE=language))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_banner_shows_on_every_support_page_when_no_worker_answers_while_work_waits(
        client, staff, work_waits, language):
    for path in ("/support/", "/support/tenants/", f"/support/changes/{work_waits.pk}/",
                 f"/support/tenants/{work_waits.tenant_id}/payments/"):
        page = support_page(client, path, language)
        assert PLAN_CHANGES_SILENT[language] in page, path
        assert WEBHOOKS_SILENT[language] in page, path
    console = support_page(client, "/support/", language)
    assert {"en": "Plan-change workers celery Not answering never 1",
            "sv": "Arbetsprocesser för planändringar celery Svarar inte aldrig 1"}[language] in console


@pytest.mark.django_db
def test_a_beat_older_than_a_minute_is_no_answer(client, staff, work_waits):
    worker_beat_record(hostname="worker@old", queue="celery", at=timezone.now() - timedelta(minutes=2))
    worker_beat_record(hostname="webhooks@host", queue="webhooks")
    page = support_page(client)
    assert f"{PLAN_CHANGES_SILENT['en']} The last one answered 2 minutes ago." in page
    assert "Webhook workers webhooks Answering webhooks@host, just now 2" in page  # not "0 minutes ago"
    assert "webhooks@host, just nu" in support_page(client, language="sv")
    assert "No webhook worker" not in page


@pytest.mark.django_db
def test_no_banner_while_nothing_waits_even_with_no_worker(client, staff, at_date):
    at_date("2026-06-15")
    page = support_page(client)
    assert "has answered for a minute" not in page
    assert "Plan-change workers celery Not answering never 0" in page


@pytest.mark.django_db
def test_the_api_says_which_workers_answer_and_only_to_support_staff(staff, work_waits):
    worker_beat_record(hostname="worker@host", queue="celery")
    worker_beat_record(hostname="worker@gone", queue="celery", at=timezone.now() - timedelta(minutes=5))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(staff)}")
    body = api.get("/api/v1/support/workers/").json()
    assert body["silence_seconds"] == 60.0
    celery, webhooks, moves = body["queues"]
    assert (moves["queue"], moves["waiting"], moves["silent"]) == ("clock", 0, False)  # no move waits
    assert (celery["queue"], celery["label"], celery["alive"], celery["silent"], celery["waiting"]) == (
        "celery", "Plan-change workers", True, False, 1)
    assert [(w["hostname"], w["alive"]) for w in celery["workers"]] == [("worker@host", True), ("worker@gone", False)]
    assert celery["last_beat_at"] == celery["workers"][0]["beat_at"]
    assert (webhooks["queue"], webhooks["alive"], webhooks["silent"], webhooks["waiting"], webhooks["workers"]) == (
        "webhooks", False, True, 2, [])
    assert api.get("/api/v1/support/workers/", HTTP_ACCEPT_LANGUAGE="sv").json()["queues"][1]["label"] == (
        "Arbetsprocesser för webhooks")
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(work_waits.tenant))}")
    assert admin.get("/api/v1/support/workers/").status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_no_banner_once_a_real_worker_answers_on_both_queues(client, staff, work_waits, tmp_path):
    assert PLAN_CHANGES_SILENT["en"] in support_page(client)
    with celery_worker(tmp_path / "worker.log"):  # which purges the change's message: it waits, as if lost
        for entry in settings.CELERY_BEAT_SCHEDULE.values():  # what beat sends every PORTAL_WORKER_BEAT_SECONDS
            if entry["task"] == "portal.worker_beat":
                app.send_task(entry["task"], **entry["options"])
        wait_for(lambda: set(WorkerBeat.objects.values_list("queue", flat=True)) == {"celery", "webhooks", "clock"},
                 timeout=60, what="the worker to answer on both queues")
        for language in ("en", "sv"):
            page = support_page(client, language=language)
            assert PLAN_CHANGES_SILENT[language] not in page and WEBHOOKS_SILENT[language] not in page
        assert "Plan-change workers celery Answering test-" in support_page(client)
        assert "Arbetsprocesser för webhooks webhooks Svarar test-" in support_page(client, language="sv")
    assert PlanChange.objects.get(pk=work_waits.pk).status == PlanChange.Status.QUEUED  # it still waits: no sweep


CLOCK_SILENT = {
    "en": "No clock worker has answered for a minute. 1 clock move is waiting for one.",
    "sv": "Ingen arbetsprocess för klockan har svarat på en minut. 1 klockflytt väntar på en.",
}
START_ONE = {
    "en": "Start a worker, or read its log: make run starts every kind; elsewhere celery -A portal worker for plan "
          "changes, with -Q webhooks for webhooks and -Q clock for the clock.",
    "sv": "Starta en arbetsprocess eller läs dess logg: make run startar alla sorter; annars celery -A portal worker "
          "för planändringar, med -Q webhooks för webhooks och -Q clock för klockan.",
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_clock_move_nobody_takes_up_is_a_banner_of_its_own(client, staff, at_date, language):
    """A move of the clock waits for a clock worker (its own queue): the banner names that worker and the move, not
    plan changes, and says how to start each kind."""
    from simulation.moves import move_request

    at_date("2026-06-15")
    move_request(actor="support", days=30, wake=False)
    page = support_page(client, "/support/", language)
    assert f"{CLOCK_SILENT[language]} {START_ONE[language]}" in page
    assert PLAN_CHANGES_SILENT[language].split(".")[0] not in page  # no plan change waits


@pytest.mark.django_db
def test_a_clock_worker_busy_with_a_long_move_is_no_silence(client, staff, at_date):
    """A worker beats between its tasks: one an hour into a preview beat an hour ago, yet the move is in its hands
    (its lease renewed day by day): no banner, the queue Answering."""
    from simulation.models import ClockMove
    from simulation.moves import move_request

    at_date("2026-06-15")
    move = move_request(actor="support", days=3650, dry_run=True, wake=False)
    ClockMove.objects.filter(pk=move.pk).update(status="running", runner="clock@host:1:a",
                                                lease_until=timezone.now() + timedelta(seconds=20))
    worker_beat_record(hostname="clock@host", queue="clock", at=timezone.now() - timedelta(hours=1))
    page = support_page(client)
    assert "No clock worker has answered" not in page
    assert "Clock workers clock Answering" in page
