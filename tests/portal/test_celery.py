"""The Celery app: configuration the design requires, and a real worker doing real work
through the configured broker (filesystem by default, Redis when CELERY_BROKER_URL says so)."""

from datetime import date

import pytest
from django.conf import settings

from billing.models import CreditCheck
from portal import clock
from portal.celery import app
from simulation.tasks import sweep
from tests.factories import CreditCheckFactory
from tests.worker import celery_worker, wait_for


def test_celery_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.result_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    if conf.broker_url.startswith("redis"):
        # A message is redelivered after the visibility timeout: it must outlast any task.
        timeout = conf.broker_transport_options["visibility_timeout"]
        assert timeout > conf.task_time_limit + settings.CELERY_TASK_MAX_RETRY_DELAY


def test_tasks_have_explicit_names():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "simulation.sweep" in ours
    for name, task in ours.items():
        assert name != f"{task.run.__module__}.{task.run.__name__}", f"{name} has an automatic name"


def test_beat_runs_the_sweep_the_webhook_fan_out_and_a_heartbeat_on_each_queue():
    assert {e["task"] for e in app.conf.beat_schedule.values()} == {"simulation.sweep", "webhooks.fan_out",
                                                                     "portal.worker_beat"}
    heartbeats = [e["options"]["queue"] for e in app.conf.beat_schedule.values() if e["task"] == "portal.worker_beat"]
    assert sorted(heartbeats) == ["celery", "clock", "webhooks"]  # every queue of the Procfile's workers


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_through_the_broker(tmp_path):
    clock.set_date(date(2026, 6, 17))  # a Wednesday
    due = CreditCheckFactory(requested=date(2026, 6, 15))  # Monday + 2 business days = today
    not_yet = CreditCheckFactory(requested=date(2026, 6, 16))
    with celery_worker(tmp_path / "worker.log"):
        sweep.delay()
        wait_for(lambda: CreditCheck.objects.get(pk=due.pk).status == "approved", what="the sweep")
    due.refresh_from_db()
    not_yet.refresh_from_db()
    assert (due.status, due.decided_on) == ("approved", date(2026, 6, 17))
    assert not_yet.status == "pending"
    assert due.tenant.events.filter(verb="credit_check.approved").count() == 1


def test_the_filesystem_broker_keeps_everything_under_var():
    if not app.conf.broker_url.startswith("filesystem"):
        pytest.skip("filesystem broker only")
    options = app.conf.broker_transport_options
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert options[key].startswith(str(settings.VAR_DIR)), key


def test_clock_moves_have_a_queue_and_a_worker_of_their_own():
    """A ten-year move or a few previews never take the slots plan changes are worked in (the hostile probe:
    three previews and a move left a plan change queued for 69 s)."""
    from pathlib import Path

    from portal.celery import app

    assert app.amqp.router.route({}, "simulation.clock_move")["queue"].name == "clock"
    assert app.amqp.router.route({}, "planchange.run_change")["queue"].name == "celery"
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    assert "clock: celery -A portal worker -Q clock --loglevel=info --concurrency=1" in procfile
