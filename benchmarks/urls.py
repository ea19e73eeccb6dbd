"""The portal's URLs and the bare Django view the API throughput is measured beside:
``bench-bare/<name>/`` answers the bytes the portal answered for the same API call (captured once
into ``BENCH_BARE_DIR/<name>.json`` before the measure), with no authentication, no database and
no serializer: what Django itself, the middleware and gunicorn cost for the same response."""

import os
from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


@cache
def _body(name: str) -> bytes:
    return (Path(os.environ["BENCH_BARE_DIR"]) / f"{name}.json").read_bytes()


def bare(request, name: str) -> HttpResponse:
    return HttpResponse(_body(name), content_type="application/json")


urlpatterns = [path("bench-bare/<slug:name>/", bare), *portal_urlpatterns]
