"""`make run` on its own: migrates, loads the demo once, serves the login page with no
database or broker server, and one Ctrl-C (SIGINT to the process group) stops everything."""

import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from tests.worker import free_port

pytestmark = pytest.mark.slow

WORKERS = ("worker", "webhooks", "clock")  # the Procfile's Celery nodes (--hostname=<name>@%h)
# How long make run may take to answer and to have its workers ready: generous, for a machine as loaded as CI's.
DEADLINE = 300


def test_make_run_serves_the_portal_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(PORTAL_VAR_DIR=str(tmp_path / "var"), PORTAL_PORT=str(port), PLANCHANGE_STEP_DELAY="0")
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["make", "run"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline, status = time.monotonic() + DEADLINE, None
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
        # The workers came up too: each Celery node of the Procfile says "<name>@<host> ready." once it takes
        # tasks. On a loaded machine (CI's lanes side by side) that can be a minute or more after the login page
        # answers: waited for until make run gives up or a generous deadline passes, never a fixed time.
        deadline, waiting = time.monotonic() + DEADLINE, set(WORKERS)
        while waiting and proc.poll() is None and time.monotonic() < deadline:
            waiting -= {name for name in waiting if re.search(rf"\b{name}@\S+ ready\.", log.read_text())}
            time.sleep(0.5)
        assert not waiting, f"not ready after {DEADLINE} s: {sorted(waiting)}\n{log.read_text()[-3000:]}"
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
