"""One authenticated API GET profiled in-process (issue 13's throughput): the full middleware stack,
DEBUG off, the throttles counting in the default cache (Redis when CELERY_BROKER_URL is redis://…).

    PROFILE=1 .venv/bin/pytest benchmarks/profile_api.py -p no:cacheprovider -s -q

prints CPU ms and queries per request for GET subscriptions/ and plan-changes/{id}/ (and a
cProfile of each with PROFILE=1), each measured twice: through Django's test client, and through the WSGI
handler as gunicorn calls it (``wsgi``: the request_started and request_finished signals included, which the
test client leaves out, so the database connection's health check, a ``SELECT 1`` before each request's first
statement, is counted as in gunicorn). Not collected by ``make bench`` (its files are bench_*.py)."""

import cProfile
import io
import os
import pstats
import sys
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client

from planchange import workflow
from planchange.services import plan_change_request
from portal import clock
from portal.celery import app
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory, admin_of, product, token_for

RUNS = int(os.environ.get("PROFILE_RUNS", "100"))
BATCHES = int(os.environ.get("PROFILE_BATCHES", "7"))


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis"):
        settings.CACHES = {"default": {"BACKEND": os.environ.get("PROFILE_CACHE", "portal.cache.RedisCache"),
                                       "LOCATION": broker}}
    from django.core.cache import caches
    caches._settings = caches.settings = None  # noqa: SLF001 - rebuilt from the new CACHES
    try:
        del caches.settings
    except AttributeError:
        pass


class WsgiClient:
    """GETs through ``WSGIHandler`` with the environ gunicorn gives it for locust's request (as
    bench_api_throughput sends it), the body read and the response closed as gunicorn does."""

    def __init__(self, token: str):
        self.handler = WSGIHandler()
        self.token = token

    def get(self, path: str):
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "python/gevent-http-client",
            "HTTP_ACCEPT_ENCODING": "gzip, deflate", "HTTP_AUTHORIZATION": f"Token {self.token}",
            "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}
        started = []
        response = self.handler(environ, lambda status, headers: started.append(status))
        b"".join(response)
        response.close()
        response.status_code = int(started[0].split()[0])
        return response


def _least(client, path: str) -> tuple[float, float]:
    batches = []
    for _ in range(BATCHES):  # the least of several batches: the machine is shared
        start = time.process_time()
        for _ in range(RUNS):
            client.get(path)
        batches.append((time.process_time() - start) / RUNS * 1000)
    return min(batches), sorted(batches)[BATCHES // 2]


@pytest.mark.django_db(transaction=True)
def test_profile_api_get(production_like, settings):
    from django.core.cache import cache
    print(f"\ndatabase: {connection.vendor}; cache: {type(cache).__name__}")
    clock.set_date(clock.today())
    tenant = TenantFactory(name="Perf", domain="perf.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=25,
                              payment_method=card)
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=10,
                        payment_method=card)
    admin = admin_of(tenant)
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB")
    app.control.purge()
    workflow.run(change.pk)
    token = token_for(admin)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    wsgi = WsgiClient(token)
    for path in ("/api/v1/subscriptions/", f"/api/v1/plan-changes/{change.pk}/"):
        for _ in range(20):
            assert client.get(path).status_code == 200
        queries = []

        def counted(execute, sql, *args, queries=queries):
            queries.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(counted):
            response = client.get(path)
        assert response.status_code == 200, response.content
        assert wsgi.get(path).status_code == 200
        least, median = _least(client, path)
        least_wsgi, median_wsgi = _least(wsgi, path)
        print(f"GET {path}: {least:.2f} ms CPU/request (least of {BATCHES} x {RUNS}; median {median:.2f}); "
              f"wsgi {least_wsgi:.2f} (median {median_wsgi:.2f}); {len(queries)} queries, "
              f"{len(response.content)} bytes")
        if os.environ.get("SHOW_QUERIES"):
            for sql in queries:
                print("   ", sql[:300])
        if os.environ.get("PROFILE"):
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(100):
                wsgi.get(path)
            profiler.disable()
            if os.environ.get("PROFILE_DUMP"):
                profiler.dump_stats(f"{os.environ['PROFILE_DUMP']}-{path.strip('/').replace('/', '-')}.prof")
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("PROFILE_LINES", "70")))
            print(out.getvalue())
