"""A real Celery worker process for tests (never eager mode): same settings, same
broker, and the test database the test process is using."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from portal.celery import app


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(**extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PORTAL_VAR_DIR": str(settings.VAR_DIR),
        "PLANCHANGE_STEP_DELAY": "0",
        **extra,
    }


# Every queue (settings.CELERY_TASK_ROUTES): one test worker does what make run's worker and webhooks do.
QUEUES = "celery,webhooks,clock"


@contextmanager
def celery_worker(log_path: Path, *, concurrency: int = 1, app_module: str = "portal", **env):
    """Start ``celery -A portal worker`` (or another module exposing the same app); yield the
    process once it is ready; stop it."""
    app.control.purge()  # nothing left over from an earlier run
    if settings.CELERY_BROKER_URL.startswith("redis"):
        # A killed worker's unacknowledged message would be redelivered into a later test;
        # the suite's broker database (15 in .ci/run) is the suite's alone.
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
    with log_path.open("w") as log:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", app_module, "worker", "--loglevel=info", "-Q", QUEUES,
             f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
             f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h"],
            env=worker_env(**env), stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
            start_new_session=True,  # its own process group: a kill takes the pool children too
        )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            stop(proc)


def stop(proc: subprocess.Popen, *, timeout: float = 20) -> None:
    """Ask the process to stop (SIGTERM: a worker finishes its task, a server its requests); kill it and its
    group when it hasn't within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_hard(proc)


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes: no cleanup, no acknowledgement."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def web_server(log_path: Path, **env):
    """Serve the portal from its own process (``manage.py runserver``) on the test database;
    yield its base URL. ``env`` overrides settings, e.g. a broker that is down."""
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            # Keeping nothing between requests (portal/generation.py): its local-memory cache can't hear of
            # the changes the test makes in its own process.
            env=worker_env(**{"PORTAL_API_KEEP": "false", **env}), stdout=log, stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket_connection(port):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the web server did not start:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        stop(proc)


def socket_connection(port: int):
    import socket

    return socket.create_connection(("127.0.0.1", port), timeout=1)
