"""`make run` on its own: migrates, loads the demo once, serves the login page with no
database or broker server, and one Ctrl-C (SIGINT to the process group) stops everything."""

import os
import signal
import subprocess
import time
import urllib.request

import pytest

from tests.worker import free_port

pytestmark = pytest.mark.slow


def test_make_run_serves_the_portal_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(PORTAL_VAR_DIR=str(tmp_path / "var"), PORTAL_PORT=str(port), PLANCHANGE_STEP_DELAY="0")
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["make", "run"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:  # noqa: S310
                    status, body = response.status, response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()[-3000:]
        assert 'name="username"' in body
        text = log.read_text()
        assert "scenarios/demo.json: loaded" in text
        assert "admin@contoso.com" in text and "Contoso-demo-2026" in text  # the demo logins are printed
        deadline = time.monotonic() + 30
        while "ready." not in log.read_text() and time.monotonic() < deadline:  # the worker came up too
            time.sleep(0.5)
        assert "worker@" in log.read_text() and "ready." in log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # web, worker and beat all gone: nobody left in the group
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("processes of make run are still running after Ctrl-C")
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)  # noqa: S310
