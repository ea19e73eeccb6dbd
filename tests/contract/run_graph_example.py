#!/usr/bin/env python
"""Graph's dialect holds for the admin's own script: `make graph-example`, a section of .ci/run beside
schemathesis.

1. A fresh portal in ``var/graph-example/``: SQLite, migrated, scenarios/demo.json loaded; gunicorn with the
   production settings on a free 127.0.0.1 port.
2. ``examples/graph_move_users.py`` (msgraph-sdk) against ``/graph/v1.0`` with Contoso's Global admin's demo
   token: it must move every Business Basic user to Business Standard and exit 0.
3. The database must say the same: nobody holds Business Basic, Business Standard's 25 licenses are all
   assigned, one licenses.changed event "via graph" per user moved; and the access log has no 5xx.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "graph-example"
TOKEN = "contoso-global-admin-demo-token"
CHECK = """
import json
from billing.models import Subscription
from portal.models import Event
subs = {s.product.sku: s.assigned_licenses for s in Subscription.objects.filter(tenant__domain="contoso.com")}
events = sorted(e.data["user"] for e in Event.objects.filter(verb="licenses.changed", data__via="graph"))
print(json.dumps({"subscriptions": subs, "events": events}))
"""
EXPECTED = {"subscriptions": {"O365_BUSINESS_ESSENTIALS": 0, "O365_BUSINESS_PREMIUM": 25},
            "events": [f"{name}@contoso.com" for name in ("alice", "bjorn", "elsa", "linnea", "oskar")]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update({"PORTAL_VAR_DIR": str(VAR), "DJANGO_SETTINGS_MODULE": "portal.settings.production",
                "DJANGO_SECRET_KEY": secrets.token_hex(32), "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_CACHE_URL": "locmemcache://", "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DJANGO_SECURE_COOKIES": "false"})
    return env


def main() -> int:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    env, port = portal_env(), free_port()
    for args in (("migrate", "--noinput", "-v", "0"), ("load_scenario", str(ROOT / "scenarios" / "demo.json"))):
        subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)
    with open(VAR / "web.log", "w") as log:
        web = subprocess.Popen([str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                "--access-logfile", str(VAR / "access.log"), "--access-logformat", "%(s)s %(m)s %(U)s"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}/graph/v1.0"
        for _ in range(60):
            try:
                requests.get(f"{base}/subscribedSkus", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(1)
        run = subprocess.run([str(BIN / "python"), "examples/graph_move_users.py", "--base-url", base, "--token",
                              TOKEN], cwd=ROOT, capture_output=True, text=True, timeout=600)
        print(run.stdout + run.stderr, flush=True)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)
    check = subprocess.run([str(BIN / "python"), "manage.py", "shell", "-c", CHECK], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True)
    found = json.loads(check.stdout.strip().splitlines()[-1])
    errors = [line for line in (VAR / "access.log").read_text().splitlines() if line[:1] == "5"]
    ok = run.returncode == 0 and "5 moved, 0 refused." in run.stdout and found == EXPECTED and not errors
    print(f"the database: {found}\n5xx answers: {len(errors)}")
    print("the admin's script ran unchanged" if ok else f"FAILED (exit {run.returncode}, expected {EXPECTED})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
