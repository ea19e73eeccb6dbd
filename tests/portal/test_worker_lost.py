"""A pool child of a real worker SIGKILLed while a plan-change step runs: the worker goes on working
(issue 21). ``make run``'s worker (prefork, two children, acks late, reject on worker lost) on the
filesystem broker took messages afterwards and ran none until it was restarted.

The child that dies matters. The one running the step holds nothing the others need. The other one,
waiting for work, did: on a transport without an event loop Celery runs billiard's threaded pool, whose
children share one job pipe behind one lock, held by whoever is waiting to read it; killed, it held the
lock for ever and every child after it waited on it. Both are killed here, each on its own."""

import os
import signal
from datetime import date
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from planchange.models import PlanChange, PlanChangeStep
from portal import clock
from simulation.sweep import sweep_run
from tests.factories import admin_of, mosa_standard, token_for
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def request_change(subscription) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(subscription.tenant))}")
    response = api.post("/api/v1/plan-changes/", {"subscription": subscription.pk, "target_sku": "SPB"},
                        format="json", HTTP_IDEMPOTENCY_KEY=f"lost-{subscription.pk}")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def pool_children(pid: int) -> dict[int, str]:
    """The worker's pool processes (its children, from /proc), each with what it waits on in the kernel."""
    children = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                children[int(child)] = Path(f"/proc/{child}/wchan").read_text()
            except FileNotFoundError:
                pass
    return children


def running_the_step(pid: int) -> list[int]:
    """The child sleeping through the step's PLANCHANGE_STEP_DELAY; the others wait for work."""
    return [child for child, wchan in pool_children(pid).items() if "nanosleep" in wchan]


def finished(*change_ids: int) -> bool:
    sweep_run()  # as beat would: a change whose step lease lapsed is woken again
    return all(PlanChange.objects.get(pk=pk).status in ("completed", "failed") for pk in change_ids)


@pytest.mark.parametrize("victim", ["running the step", "waiting for work"])
def test_a_pool_child_killed_mid_step_leaves_the_worker_working(tmp_path, victim):
    clock.set_date(date(2026, 6, 16))
    _, _, first_sub, _ = mosa_standard(users=2)
    _, _, second_sub, _ = mosa_standard(users=2, name="Fabrikam", domain="fabrikam.example")
    log = tmp_path / "worker.log"
    with celery_worker(log, concurrency=2, PLANCHANGE_STEP_DELAY="2", PLANCHANGE_STEP_LEASE="3") as worker:
        first = request_change(first_sub)
        seen = []

        def one_child_running_the_step():
            # Both children can look asleep at one sampling instant (the idle one polls the broker): wait until
            # exactly one does, and keep that sample.
            seen[:] = running_the_step(worker.pid)
            return PlanChangeStep.objects.filter(plan_change_id=first, status="running").exists() and len(seen) == 1

        wait_for(one_child_running_the_step, timeout=60, interval=0.05, what="a step of the change to run")
        [running] = seen
        waiting = [child for child in pool_children(worker.pid) if child != running]
        assert len(waiting) == 1
        os.kill(running if victim == "running the step" else waiting[0], signal.SIGKILL)
        wait_for(lambda: "exited with 'signal 9" in log.read_text(), timeout=30, what="the worker to see it")
        second = request_change(second_sub)
        wait_for(lambda: finished(first, second), timeout=90, interval=1.0,
                 what=f"both changes to finish after the kill; the worker's log:\n{log.read_text()[-3000:]}")
    statuses = PlanChange.objects.filter(pk__in=(first, second)).values_list("status", flat=True)
    assert list(statuses) == ["completed", "completed"]
