"""The load of ``bench_api_throughput`` (run by ``locust --headless``, never by pytest): every user
GETs ``BENCH_PATH`` back to back, with its own API token from ``BENCH_TOKENS`` (comma-separated; a
user per login, as the throttles count per login). ``BENCH_TOKENS`` empty: no Authorization header
(the bare view)."""

import itertools
import os

from locust import FastHttpUser, constant, task

TOKENS = [t for t in os.environ.get("BENCH_TOKENS", "").split(",") if t]
_next = itertools.count()


class ApiUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        token = TOKENS[next(_next) % len(TOKENS)] if TOKENS else None
        self.headers = {"Authorization": f"Token {token}"} if token else {}
        self.path = os.environ["BENCH_PATH"]

    @task
    def get(self):
        with self.client.get(self.path, headers=self.headers, name=os.environ.get("BENCH_NAME", self.path),
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
