"""Helpers shared by the tests."""

import html
import os
import re
import threading
import uuid
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.db import connections


def page_text(response) -> str:
    """A page's visible text as a person reads it: tags and scripts gone, entities decoded,
    whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip())


def concurrently(n: int, fn) -> list:
    """Run ``fn(i)`` for i in 0..n-1 on n threads released together; their results in order.
    Each thread closes its database connection (use with a transactional test database)."""
    results, barrier = [None] * n, threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def reviewed(response) -> str:
    """The digest a review page carries in its confirmation form (what the admin was shown)."""
    found = re.search(r'name="reviewed" value="([0-9a-f]*)"', response.content.decode())
    assert found, "the page has no review to confirm"
    return found.group(1)


@contextmanager
def throttles_cache(kind: str, settings, *, rates: dict):
    """The API throttles' cache for a test: the embedded default's (``kind`` "locmem") or a Redis (``"redis"``,
    from DJANGO_CACHE_URL or CELERY_BROKER_URL; skipped without one) under a key prefix of its own, whose keys are
    deleted afterwards (nothing else's is touched, nothing flushed); ``rates`` replace those DRF names."""
    prefix = f"throttles-{uuid.uuid4().hex}"
    if kind == "redis":
        url = next((os.environ[name] for name in ("DJANGO_CACHE_URL", "CELERY_BROKER_URL")
                    if os.environ.get(name, "").startswith("redis://")), None)
        if url is None:
            pytest.skip("no Redis configured (DJANGO_CACHE_URL or CELERY_BROKER_URL)")
        settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}}
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                       "LOCATION": prefix}}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}
    yield kind
    if kind == "redis":
        client = caches["default"]._cache.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@contextmanager
def database_at(migrations: list[tuple[str, str]]):
    """The test database migrated back to ``migrations`` (app, name): yields the apps of that state to make old
    rows with, then migrates every app forward to its latest (a transactional test, for the migrations to run)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(migrations)
    try:
        yield executor.loader.project_state(migrations).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def move(to: str, **kwargs) -> dict:
    """Support moves the clock to ``to`` (an ISO date), as the console and the API do: the move's answer."""
    from datetime import date

    from simulation.moves import clock_move

    return clock_move(actor="support@portal.local", to=date.fromisoformat(to), **kwargs)
