"""How many users one batch of the license move takes (PLANCHANGE_MIGRATE_BATCH), chosen by this
measure: the migrate_licenses step alone, in this process, committing each batch as the worker does,
for several sizes on tenants of the same size (medians of BENCH_RUNS)."""

import os
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import results
from benchmarks.data import tenant_with_seats
from planchange import workflow
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal import clock

SEATS = results.scaled(20_000, least=100)
SIZES = [int(s) for s in os.environ.get("BENCH_BATCH_SIZES", "250,500,1000,2000,5000,10000").split(",")]
RUNS = results.runs(3)

results.table("batch_size", f"License move batch size: the migrate_licenses step for {SEATS:,} seats", [
    ("batch", "batch (users)"), ("seats", "seats"), ("median_s", "median s"), ("users_per_s", "users/s"),
    ("queries", "queries"), ("longest_batch_ms", "longest batch transaction (ms)")])


def _ready_to_migrate(seats: int, domain: str) -> int:
    tenant, sub, admin = tenant_with_seats(seats=seats, sku="ENTERPRISEPACK", domain=domain)
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPE_E5")
    for name in ("validate", "provision"):
        assert workflow._claim(change.pk, name)
        workflow.STEPS[name](change.pk)
    assert workflow._claim(change.pk, "migrate_licenses")
    return change.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", SIZES)
def test_batch_size(settings, monkeypatch, size):
    clock.set_date(clock.today())
    settings.PLANCHANGE_MIGRATE_BATCH = size
    settings.PLANCHANGE_STEP_DELAY = 0
    timings, queries, longest = [], [], []
    renew = workflow._renew_lease
    for run in range(RUNS):
        change_id = _ready_to_migrate(SEATS, f"b{size}r{run}.example")
        ends = [time.perf_counter()]  # each batch's transaction ends where the lease is renewed

        def timed_renew(*args, ends=ends):
            ends.append(time.perf_counter())
            return renew(*args)

        monkeypatch.setattr(workflow, "_renew_lease", timed_renew)
        with CaptureQueriesContext(connection) as ctx:
            ends[0] = started = time.perf_counter()
            workflow.STEPS["migrate_licenses"](change_id)
            ends.append(time.perf_counter())
        timings.append(ends[-1] - started)
        queries.append(len(ctx))
        longest.append(max(b - a for a, b in zip(ends, ends[1:], strict=False)))
        change = PlanChange.objects.get(pk=change_id)
        assert change.new_subscription.assigned_licenses == SEATS
        assert change.subscription.assigned_licenses == 0
    median = statistics.median(timings)
    results.record("batch_size", {"batch": size, "seats": SEATS, "median_s": median, "users_per_s": SEATS / median,
                                  "queries": int(statistics.median(queries)),
                                  "longest_batch_ms": statistics.median(longest) * 1000, "runs": timings})
