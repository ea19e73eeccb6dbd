"""The portal as deployed (``portal.settings.production``: DEBUG off, the throttles counting in a
shared Redis cache, every middleware), with one URL more for the API throughput benchmark: the bare
view of ``benchmarks.urls``. The environment of ``bench_api_throughput`` sets what production
requires (secret key, hosts, cache) and plain http on loopback."""

from portal.settings.production import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
