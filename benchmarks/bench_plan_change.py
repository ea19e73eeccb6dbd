"""The automatic plan change end to end (POST plan-changes/ → ``completed``, through a real Celery
worker on PostgreSQL + Redis) beside the SQL floor: the same license rows moved by hand-written SQL in
one transaction (new subscription, INSERT … SELECT of the assignments, DELETE of the old ones, old
subscription cancelled) on a twin tenant in the same database, side by side in each run (their order
alternating), medians of BENCH_RUNS runs. Round-trips: every statement the worker executed for the
change (``benchmarks.celery_probe``), the request's, the floor's. The worker's peak memory: its
process's VmHWM."""

import json
import statistics
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from benchmarks import results
from benchmarks.data import DISABLED_EVERY, tenant_with_seats
from billing.models import Product, Subscription
from licensing.models import LicenseAssignment
from planchange.models import PlanChange
from portal import clock
from tests.factories import token_for
from tests.worker import celery_worker, wait_for

# (case, seats, from, to, runs, targets: ratio to the floor (from 10,000 seats: below, the change's fixed
# steps outweigh a floor of a few milliseconds), seconds)
TEN_K, HUNDRED_K = results.scaled(10_000), results.scaled(100_000)
CASES = [
    ("Business Standard → Business Premium", 300, "O365_BUSINESS_PREMIUM", "SPB", results.runs(5), None, None),
    ("Office 365 E3 → Microsoft 365 E5", TEN_K, "ENTERPRISEPACK", "SPE_E5", results.runs(5),
     3.0 if TEN_K >= 10_000 else None, None),
    ("Office 365 E3 → Microsoft 365 E5", HUNDRED_K, "ENTERPRISEPACK", "SPE_E5", results.runs(3),
     3.0 if HUNDRED_K >= 10_000 else None, 15.0 if results.scale() == 1 else None),
]
PEAK_MB = 300

results.table("plan_change", "Automatic plan change end to end (POST → completed, real worker) beside the SQL floor", [
    ("case", "change"), ("seats", "seats"), ("runs", "runs"), ("e2e_s", "end to end s (median)"),
    ("floor_s", "SQL floor s (median)"), ("ratio", "ratio (median of pairs)"), ("worker_queries", "worker round-trips"),
    ("request_queries", "request round-trips"), ("floor_queries", "floor round-trips"),
    ("worker_peak_mb", "worker peak MB"), ("target", "target"), ("met", "met")])


def sql_floor(subscription: Subscription, target: Product) -> tuple[float, int]:
    """The floor: the change's rows written by hand in one transaction. Answers (seconds, statements)."""
    subs, licenses = Subscription._meta.db_table, LicenseAssignment._meta.db_table
    columns = [f.column for f in Subscription._meta.concrete_fields if not f.primary_key]
    copied = ", ".join("%s" if c == "product_id" else c for c in columns)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {subs} ({', '.join(columns)}) SELECT {copied} FROM {subs} "  # noqa: S608
                           f"WHERE id = %s RETURNING id", [target.pk, subscription.pk])
            new = cursor.fetchone()[0]
            cursor.execute(f"INSERT INTO {licenses} (user_id, subscription_id, disabled_plans, assigned_at) "  # noqa: S608
                           f"SELECT user_id, %s, '[]', now() FROM {licenses} WHERE subscription_id = %s",
                           [new, subscription.pk])
            cursor.execute(f"DELETE FROM {licenses} WHERE subscription_id = %s", [subscription.pk])  # noqa: S608
            cursor.execute(f"UPDATE {subs} SET status = 'cancelled', cancelled_on = current_date, "  # noqa: S608
                           f"recurring_billing = false, assigned_licenses = 0 WHERE id = %s", [subscription.pk])
        seconds = time.perf_counter() - started
    assert LicenseAssignment.objects.filter(subscription_id=new).count() == subscription.assigned_licenses
    return seconds, len(ctx)


def end_to_end(subscription: Subscription, admin, target_sku: str) -> tuple[float, int, int]:
    """POST the change and wait for ``completed``: (seconds by the simulation clock from before the
    request to the moment the worker completed it, the request's statements, the change's id)."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    started = clock.now()
    with CaptureQueriesContext(connection) as ctx:
        response = api.post("/api/v1/plan-changes/", {"subscription": subscription.pk, "target_sku": target_sku},
                            format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 202, response.content
    change_id = response.json()["id"]
    wait_for(lambda: PlanChange.objects.filter(pk=change_id).values_list("status", flat=True).get()
             in ("completed", "failed"), timeout=600, interval=0.05, what="the change to complete")
    change = PlanChange.objects.get(pk=change_id)
    assert change.status == "completed", (change.error_code, change.error_detail)
    assert change.new_subscription.assigned_licenses == subscription.assigned_licenses
    assert not LicenseAssignment.objects.filter(subscription=subscription).exists()
    assert len(change.disabled_plans_before) in range(subscription.assigned_licenses // DISABLED_EVERY - 1,
                                                      subscription.assigned_licenses // DISABLED_EVERY + 2)
    steps = {step.name: round((step.finished_at - step.started_at) / timedelta(seconds=1), 3)
             for step in change.steps.all()}
    first = min(step.started_at for step in change.steps.all())
    steps["until the first step"] = round((first - started) / timedelta(seconds=1), 3)
    print(f"\n[bench] change {change_id}: {steps}")  # noqa: T201 - where the time went
    return (change.completed_at - started) / timedelta(seconds=1), len(ctx), change_id


def _probe(path, change_id: int) -> tuple[int, float]:
    """The worker's statements for the change (every task run for it) and its peak memory (MB)."""
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    mine = [line for line in lines if line["task"] == "planchange.run_change" and line["args"] == [change_id]]
    return sum(line["queries"] for line in mine), max((line["peak_rss_mb"] for line in lines), default=0.0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("case", "seats", "source", "target", "runs", "ratio_target", "seconds_target"), CASES,
                         ids=[f"{c[1]}" for c in CASES])
def test_plan_change_beside_the_sql_floor(tmp_path, case, seats, source, target, runs, ratio_target,
                                          seconds_target):
    clock.set_date(clock.today())
    probe = tmp_path / "probe.jsonl"
    pairs, queries = [], []
    with celery_worker(tmp_path / "worker.log", app_module="benchmarks.celery_probe", BENCH_PROBE_FILE=str(probe)):
        # A running service: the worker has connected and imported everything before the first measure.
        _t, warm, warm_admin = tenant_with_seats(seats=10, sku=source, domain=f"warm-{uuid.uuid4().hex[:6]}.example")
        end_to_end(warm, warm_admin, target)
        for run in range(runs):
            tag = f"{seats}-{run}-{uuid.uuid4().hex[:6]}"
            _t, mine, admin = tenant_with_seats(seats=seats, sku=source, domain=f"e2e-{tag}.example")
            _t, twin, _a = tenant_with_seats(seats=seats, sku=source, domain=f"floor-{tag}.example")
            product = Product.objects.get(sku=target)
            if run % 2:
                floor = sql_floor(twin, product)
                e2e = end_to_end(mine, admin, target)
            else:
                e2e = end_to_end(mine, admin, target)
                floor = sql_floor(twin, product)
            worker_queries, peak = _probe(probe, e2e[2])
            pairs.append((e2e[0], floor[0]))
            queries.append((worker_queries, e2e[1], floor[1], peak))
    e2e_s = statistics.median(p[0] for p in pairs)
    floor_s = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    peak = max(q[3] for q in queries)
    missed = []
    if ratio_target and ratio > ratio_target:
        missed.append(f"ratio {ratio:.1f} > {ratio_target}")
    if seconds_target and e2e_s > seconds_target:
        missed.append(f"{e2e_s:.1f} s > {seconds_target} s")
    if peak > PEAK_MB:
        missed.append(f"peak {peak:.0f} MB > {PEAK_MB} MB")
    targets = [f"≤ {ratio_target}× floor" if ratio_target else "", f"< {seconds_target} s" if seconds_target else "",
               f"< {PEAK_MB} MB"]
    results.record("plan_change", {
        "case": case, "seats": seats, "runs": runs, "e2e_s": e2e_s, "floor_s": floor_s, "ratio": ratio,
        "worker_queries": int(statistics.median(q[0] for q in queries)),
        "request_queries": int(statistics.median(q[1] for q in queries)),
        "floor_queries": int(statistics.median(q[2] for q in queries)), "worker_peak_mb": peak,
        "target": ", ".join(t for t in targets if t), "met": "no: " + "; ".join(missed) if missed else "yes",
        "pairs": pairs})
    assert not missed, missed
