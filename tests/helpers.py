"""Helpers shared by the tests."""

import html
import re
import threading

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
