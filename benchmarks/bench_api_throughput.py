"""API throughput under gunicorn (issue 13): locust headless on loopback against GET
``subscriptions/`` and GET ``plan-changes/{id}/``, each beside a bare Django view answering the same
JSON bytes (``benchmarks.urls``: no authentication, no database, no serializer — the same gunicorn,
settings and middleware). Requests/s, p50, p99 and failures of each; the ratio is the portal's
requests/s over the bare view's (target ≥ 0.5).

The portal runs as deployed (``portal.settings.production`` through ``benchmarks.gunicorn_settings``:
DEBUG off, the throttles counting in Redis) on plain http, with GUNICORN_WORKERS sync workers (the
machine's 2 cores) on the benchmark database; the per-login rate is raised to 100000/second so the
load isn't refused (a per-second window keeps DRF's request history short, as a real limit would).
Locust runs LOCUST_USERS users back to back (no wait), a login each, on the same machine: its CPU,
gunicorn's and the database backends' are recorded beside each measure."""

import csv
import os
import resource
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from benchmarks import procs, results
from benchmarks.data import tenant_with_seats
from billing.models import Product
from planchange import workflow
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal import clock
from portal.celery import app
from tests.factories import SubscriptionFactory, admin_of, token_for
from tests.worker import free_port, stop, worker_env

GUNICORN_WORKERS = 2
LOCUST_USERS = 10
SECONDS = max(5, round(20 * results.scale()))
TARGET = 0.5
BIN = Path(sys.executable).parent

results.table("api_throughput", f"API throughput under gunicorn ({GUNICORN_WORKERS} workers, locust headless, "
              f"{LOCUST_USERS} users, {SECONDS} s each, loopback) beside a bare Django view of the same JSON", [
                  ("endpoint", "GET"), ("bytes", "body bytes"), ("portal_rps", "portal req/s"),
                  ("portal_p50_ms", "portal p50 ms"), ("portal_p99_ms", "portal p99 ms"),
                  ("portal_failures", "portal failures"), ("bare_rps", "bare req/s"), ("bare_p50_ms", "bare p50 ms"),
                  ("bare_p99_ms", "bare p99 ms"), ("bare_failures", "bare failures"), ("ratio", "ratio"),
                  ("cpu_ms", "gunicorn CPU ms per request (portal; bare)"),
                  ("cpu_split", "CPU s: gunicorn / postgres / locust (portal; bare)"), ("load", "load avg"),
                  ("target", "target"), ("met", "met")])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"} if token else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our loopback server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Gunicorn:
    """``gunicorn portal.wsgi`` with the benchmark's settings on a free loopback port (its own
    process group, stopped on exit)."""

    def __init__(self, log: Path, bare_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = worker_env(
            DJANGO_SETTINGS_MODULE="benchmarks.gunicorn_settings", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_CACHE_URL=settings.CELERY_BROKER_URL,
            DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_COOKIES="false",
            PORTAL_API_RATE_USER="100000/second", BENCH_BARE_DIR=str(bare_dir))

    def __enter__(self):
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(GUNICORN_WORKERS), "--timeout", "300"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"{self.url}/api/v1/subscriptions/")[0] == 401:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    def __exit__(self, *exc):
        stop(self.proc)


def locust(url: str, *, path: str, tokens: list[str], out: Path) -> dict:
    """One headless locust run; its aggregated requests/s, p50, p99, failures and CPU seconds."""
    env = {**os.environ, "BENCH_PATH": path, "BENCH_TOKENS": ",".join(tokens), "BENCH_NAME": path}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(  # noqa: S603
        [str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
         "-u", str(LOCUST_USERS), "-r", str(LOCUST_USERS), "-t", f"{SECONDS}s", "--host", url,
         "--csv", str(out), "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING"],
        env=env, check=True, capture_output=True, timeout=SECONDS + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Path(f"{out}_stats.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return {"rps": float(row["Requests/s"]), "p50_ms": float(row["50%"]), "p99_ms": float(row["99%"]),
            "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "locust_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}


def measure(server: Gunicorn, *, path: str, tokens: list[str], out: Path) -> dict:
    for _ in range(20):  # warm both workers (imports, connections, the catalog)
        assert _get(server.url + path, tokens[0] if tokens else None)[0] == 200
    web, db = procs.group_cpu_seconds(server.proc.pid), procs.database_backends_cpu_seconds()
    run = locust(server.url, path=path, tokens=tokens, out=out)
    run["gunicorn_cpu_s"] = procs.group_cpu_seconds(server.proc.pid) - web
    run["postgres_cpu_s"] = procs.database_backends_cpu_seconds() - db
    run["load"] = os.getloadavg()[0]
    return run


def api_world(domain: str) -> tuple[PlanChange, list[str]]:
    """A tenant as the API would see it: Business Standard changed to Business Premium (25 users moved, the old
    subscription cancelled), a Business Basic beside it; the change, and a Global admin's token per locust user."""
    clock.set_date(clock.today())
    tenant, sub, admin = tenant_with_seats(seats=25, sku="O365_BUSINESS_PREMIUM",
                                           domain=f"{domain}-{uuid.uuid4().hex[:6]}.example")
    SubscriptionFactory(tenant=tenant, product=Product.objects.get(sku="O365_BUSINESS_ESSENTIALS"), licenses=10,
                        payment_method=sub.payment_method)
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB")
    app.control.purge()  # the wake-up for a worker: the change is run here, in this process
    workflow.run(change.pk)
    assert PlanChange.objects.get(pk=change.pk).status == "completed"
    return change, [token_for(admin)] + [token_for(admin_of(tenant)) for _ in range(LOCUST_USERS - 1)]


@pytest.mark.django_db(transaction=True)
def test_api_throughput_beside_a_bare_view(tmp_path):
    change, tokens = api_world("api")

    endpoints = [("subscriptions/", "/api/v1/subscriptions/", "subscriptions"),
                 ("plan-changes/{id}/", f"/api/v1/plan-changes/{change.pk}/", "plan-change")]
    missed_all = []
    with Gunicorn(tmp_path / "gunicorn.log", tmp_path) as server:
        for label, path, name in endpoints:
            status, body = _get(server.url + path, tokens[0])
            assert status == 200, body
            (tmp_path / f"{name}.json").write_bytes(body)
            assert _get(f"{server.url}/bench-bare/{name}/") == (200, body)  # the same bytes, no token
            portal = measure(server, path=path, tokens=tokens, out=tmp_path / f"{name}-portal")
            bare = measure(server, path=f"/bench-bare/{name}/", tokens=[], out=tmp_path / f"{name}-bare")
            ratio = portal["rps"] / bare["rps"]
            failures = portal["failures"] + bare["failures"]
            missed = [f"ratio {ratio:.2f} < {TARGET}"] if ratio < TARGET else []
            missed += [f"{failures} failed requests"] if failures else []
            results.record("api_throughput", {
                "endpoint": label, "bytes": len(body), "portal_rps": portal["rps"], "portal_p50_ms": portal["p50_ms"],
                "portal_p99_ms": portal["p99_ms"], "portal_failures": portal["failures"], "bare_rps": bare["rps"],
                "bare_p50_ms": bare["p50_ms"], "bare_p99_ms": bare["p99_ms"], "bare_failures": bare["failures"],
                "ratio": ratio, "cpu_ms": " ; ".join(f"{1000 * r['gunicorn_cpu_s'] / max(r['requests'], 1):.1f}"
                                                     for r in (portal, bare)),
                "cpu_split": " ; ".join(f"{r['gunicorn_cpu_s']:.0f} / {r['postgres_cpu_s']:.0f} / "
                                        f"{r['locust_cpu_s']:.0f}" for r in (portal, bare)),
                "load": f"{portal['load']:.1f}–{bare['load']:.1f}", "target": f"≥ {TARGET}× bare",
                "met": "no: " + "; ".join(missed) if missed else "yes", "portal": portal, "bare": bare})
            missed_all += [f"{label}: {m}" for m in missed]
    assert not missed_all, missed_all
