"""Speed and memory targets at tenant scale (make bench). Timings are printed; a target
missed fails the benchmark, never a test of the regular suite."""

import statistics
import time
import tracemalloc

import pytest
from django.db import connection

from planchange.scenarios import scenario_load
from tests.factories import admin_of, token_for

USERS = 10_000
LOAD_SECONDS = 12.0
LOAD_PEAK_MB = 50
PAGE_MEDIAN_MS = 100

BIG = {"tenants": [{
    "name": "Big", "domain": "big.example",
    "subscriptions": [{"key": "e3", "sku": "ENTERPRISEPACK", "licenses": USERS},
                      {"key": "basic", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 300}],
    "generate_users": [{"count": USERS, "subscription": "e3", "prefix": "user"}],
}]}


def report(name, value, unit, target):
    print(f"\n[bench] {connection.vendor}: {name}: {value:.2f} {unit} (target < {target} {unit})")


@pytest.mark.django_db(transaction=True)
def test_load_10000_generated_users():
    tracemalloc.start()
    started = time.perf_counter()
    scenario_load(BIG)
    seconds = time.perf_counter() - started
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    report("load 10,000 users with licenses", seconds, "s", LOAD_SECONDS)
    report("load peak Python memory", peak_mb, "MB", LOAD_PEAK_MB)
    assert seconds < LOAD_SECONDS
    assert peak_mb < LOAD_PEAK_MB


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/billing/products/", "/api/v1/subscriptions/"])
def test_pages_at_10000_users(client, url):
    from portal.models import Tenant

    scenario_load(BIG)
    admin = admin_of(Tenant.objects.get(domain="big.example"))
    client.force_login(admin)
    headers = {"HTTP_AUTHORIZATION": f"Token {token_for(admin)}"} if url.startswith("/api/") else {}
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        assert client.get(url, **headers).status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    report(f"GET {url} median", median, "ms", PAGE_MEDIAN_MS)
    assert median < PAGE_MEDIAN_MS
