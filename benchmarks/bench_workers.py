"""Worker scaling (issue 13): TENANTS tenants × USERS users each changing plan at once (Business
Standard → Business Premium, requested through the service, not timed), run by 1 and then by 2
Celery worker processes (each ``--concurrency=1``) on PostgreSQL + Redis: changes per second and the
scaling ratio (target: 2 workers ≥ 1.6× the changes per second of 1).

Each round has fresh tenants and all its changes queued before its workers start; the time is from
the first step a worker claimed to the last change completed (the database's timestamps, so the
workers' start-up isn't counted; the second worker's start after the first counts against 2). The
CPU seconds of the workers, of PostgreSQL (every database on the server) and of the whole machine
(other work on it included) over each round say what bounds the ratio on a machine
whose cores PostgreSQL shares."""

import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import Max, Min

from benchmarks import procs, results
from benchmarks.data import users_add_each
from billing.models import Product
from planchange.models import PlanChange, PlanChangeStep
from planchange.services import plan_change_request
from portal import clock
from portal.celery import app
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory, admin_of
from tests.worker import stop, wait_for, worker_env

TENANTS = results.scaled(500)
USERS = 25
SOURCE, TARGET_SKU = "O365_BUSINESS_PREMIUM", "SPB"
TARGET_RATIO = 1.6

results.table("workers", f"Worker scaling: {TENANTS:,} tenants × {USERS} users changing plan at once "
              "(Business Standard → Business Premium), Celery workers of concurrency 1", [
                  ("workers", "worker processes"), ("changes", "changes"), ("seconds", "s (first claim → last done)"),
                  ("per_second", "changes/s"), ("ratio", "ratio to 1 worker"), ("worker_cpu_s", "workers CPU s"),
                  ("postgres_cpu_s", "postgres CPU s (all dbs)"), ("machine_cpu_s", "machine busy CPU s (all)"),
                  ("load", "load avg"), ("target", "target"), ("met", "met")])


def tenants_with_changes(tag: str) -> list[int]:
    """TENANTS MOSA tenants paying by card, each with Business Standard held by USERS users, and a
    change to Business Premium requested by its Global admin: the changes' ids (queued; the wake-ups
    wait in Redis for the workers)."""
    subs = []
    for i in range(TENANTS):
        tenant = TenantFactory(name=f"Scale {tag} {i}", domain=f"w{tag}-{i}.example")
        card = PaymentMethodFactory(tenant=tenant, is_default=True)
        subs.append((SubscriptionFactory(tenant=tenant, product=Product.objects.get(sku=SOURCE), licenses=USERS,
                                         payment_method=card), admin_of(tenant)))
    users_add_each(subscriptions=[s for s, _a in subs], count=USERS)
    return [plan_change_request(tenant=sub.tenant, user=admin, subscription_id=sub.pk, target_sku=TARGET_SKU).pk
            for sub, admin in subs]


@contextmanager
def worker(log_path):
    """One ``celery -A portal worker --concurrency=1`` (no purge: the queued wake-ups are its work)."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=warning", "--concurrency=1",
             "--without-gossip", "--without-mingle", f"--hostname=bench-{uuid.uuid4().hex[:8]}@%h"],
            env=worker_env(), stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR, start_new_session=True)
    try:
        yield proc
    finally:
        stop(proc)


def run_round(tmp_path, n: int) -> dict:
    app.control.purge()
    with app.connection_for_write() as conn:  # the benchmark's own broker database: nothing left over
        conn.default_channel.client.flushdb()
    started = time.perf_counter()
    ids = tenants_with_changes(f"{n}{uuid.uuid4().hex[:4]}")
    setup_s = time.perf_counter() - started
    changes = PlanChange.objects.filter(pk__in=ids)
    assert changes.filter(status="queued").count() == len(ids)
    db_before, machine_before = procs.postgres_cpu_seconds(), procs.machine_cpu_seconds()
    load = [os.getloadavg()[0]]
    with ExitStack() as stack:
        workers = [stack.enter_context(worker(tmp_path / f"worker-{n}-{i}.log")) for i in range(n)]
        wait_for(lambda: changes.filter(status__in=("completed", "failed")).count() == len(ids),
                 timeout=1800, interval=0.5, what=f"{len(ids)} changes by {n} worker(s)")
        worker_cpu = sum(procs.group_cpu_seconds(w.pid) for w in workers)
        db_cpu = procs.postgres_cpu_seconds() - db_before
        machine_cpu = procs.machine_cpu_seconds() - machine_before
    load.append(os.getloadavg()[0])
    assert changes.filter(status="completed").count() == len(ids), list(
        changes.exclude(status="completed").values_list("status", "error_code")[:5])
    first = PlanChangeStep.objects.filter(plan_change__in=ids).aggregate(t=Min("started_at"))["t"]
    last = changes.aggregate(t=Max("completed_at"))["t"]
    seconds = (last - first) / timedelta(seconds=1)
    return {"workers": n, "changes": len(ids), "seconds": seconds, "per_second": len(ids) / seconds,
            "worker_cpu_s": worker_cpu, "postgres_cpu_s": db_cpu, "machine_cpu_s": machine_cpu,
            "load": f"{min(load):.1f}–{max(load):.1f}", "setup_s": setup_s}


@pytest.mark.django_db(transaction=True)
def test_two_workers_beside_one(tmp_path):
    clock.set_date(clock.today())
    one = run_round(tmp_path, 1)
    two = run_round(tmp_path, 2)
    ratio = two["per_second"] / one["per_second"]
    results.record("workers", {**one, "ratio": 1.0, "target": "", "met": ""})
    met = ratio >= TARGET_RATIO
    results.record("workers", {**two, "ratio": ratio, "target": f"≥ {TARGET_RATIO}× 1 worker",
                               "met": "yes" if met else f"no: {ratio:.2f} < {TARGET_RATIO}"})
    assert met, f"2 workers: {ratio:.2f}× the changes per second of 1 (target {TARGET_RATIO}×)"
