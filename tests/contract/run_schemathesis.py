#!/usr/bin/env python
"""The schema holds, against a live portal: `make schemathesis`, and a section of .ci/run.

1. A fresh portal in ``var/schemathesis/``: SQLite and Celery's filesystem broker, migrated,
   with scenarios/demo.json (Contoso and Fabrikam, each with a Global admin's fixed token, and
   support staff's) and a few more scenario tenants; gunicorn on a free 127.0.0.1 port with the
   production settings, and a Celery worker.
2. schemathesis (tests/contract/schemathesis.toml) against ``/api/schema/`` with every check:
   as Contoso's admin and as Fabrikam's admin (tenant operations; ``support/`` is the next
   run's), then as support staff (``support/`` operations). Its summary is printed.
3. No foreign object reachable: every operation of the schema with an ``{id}`` is called by the
   other tenant with each id of the owner's objects (404 problem+json, every one), the request
   bodies that name a subscription or a quote are sent with the owner's (404), and the
   owner's data, read through every list before and after, hasn't changed.
4. No 5xx anywhere: the access log of the whole run has none.

Exits non-zero on any failure. ``SCHEMATHESIS_EXAMPLES`` (per operation, default 10) and
``SCHEMATHESIS_SEED`` change the fuzz's budget and seed.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")
SCENARIOS = ["demo.json", "change_in_progress.json", "credit_check_pending.json", "service_incident.json",
             "unpaid_balance.json"]
# scenarios/demo.json's fixed tokens (docs/api.md, "Authentication").
TENANTS = {"Contoso": "contoso-global-admin-demo-token", "Fabrikam": "fabrikam-global-admin-demo-token"}
SUPPORT = "support-staff-demo-token"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20260616")
API = "/api/v1/"
SUPPORT_PATHS = r"^/api/v1/support/"
CLOCK = "/api/v1/support/clock/"
CLOCK_MOVE = "v1_support_clock_create"  # POST support/clock/
# DELETE tokens/{id}/ with the ids GET tokens/ lists revokes the very token the fuzz signs in with (every
# later request is a 401): revocation is tests/portal/test_api_tokens.py's, and the foreign sweep's below.
TOKEN_REVOKE = "v1_tokens_destroy"
IDS_PER_KIND = 100  # the sweep's bound per kind of object (the newest and oldest first)
PROBLEM = "application/problem+json"


def say(text: str) -> None:
    print(text, flush=True)


def portal_env(port: int, var: Path = VAR) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update({
        "PORTAL_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_CACHE_URL": "locmemcache://",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        # The fuzz sends thousands of requests, bad tokens among them, from one address.
        "PORTAL_API_RATE_USER": "1000000/minute",
        "PORTAL_API_RATE_ANON": "1000000/minute",
        "PORTAL_API_RATE_TOKEN_FAILURES": "1000000/minute",
        "PLANCHANGE_STEP_DELAY": "0",
        "PORTAL_PORT": str(port),
    })
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    """gunicorn and a Celery worker on a fresh database; stopped (by their process groups) on exit."""

    def __init__(self, var: Path = VAR):
        self.var = var
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = portal_env(self.port, var)
        self.processes: list[subprocess.Popen] = []

    def manage(self, *args) -> None:
        subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def start(self, name: str, *command) -> None:
        log = open(self.var / f"{name}.log", "w")  # noqa: SIM115 - open while the process runs
        self.processes.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def __enter__(self):
        shutil.rmtree(self.var, ignore_errors=True)
        self.var.mkdir(parents=True)
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_scenario", *(str(ROOT / "scenarios" / name) for name in SCENARIOS))
        self.start("web", str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", "2", "--timeout", "300", "--access-logfile", str(self.var / "access.log"),
                   "--access-logformat", '%(s)s %(m)s %(U)s')
        # Not the webhooks queue: a fuzzed webhook may name any public address, and this portal sends nothing
        # off the machine (its deliveries stay pending; tests/webhooks sends to receivers on loopback).
        self.start("worker", str(BIN / "celery"), "-A", "portal", "worker", "--pool", "solo", "-Q", "celery",
                   "--loglevel", "warning",
                   "--hostname", f"schemathesis-{self.port}@%h")
        for _ in range(60):
            try:
                if requests.get(f"{self.base}/api/schema/", timeout=5).status_code == 200:
                    say(f"portal up at {self.base} (logs in {self.var})")
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(1)
        raise SystemExit(f"the portal didn't come up: see {self.var}/web.log")

    def __exit__(self, *exc):
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


# --- schemathesis ----------------------------------------------------------------------------


def schemathesis(portal: Portal, label: str, token: str, *selection: str) -> bool:
    say(f"\n----- schemathesis as {label}: {EXAMPLES} examples per operation, seed {SEED} -----")
    command = [
        str(BIN / "schemathesis"), "--config-file", str(CONFIG), "--no-color", "run", f"{portal.base}/api/schema/",
        "--checks", "all", "--header", f"Authorization: Token {token}", "--max-examples", str(EXAMPLES),
        # One worker: Hypothesis describing its strategies in two threads at once trips CPython 3.11's
        # parser ("AST constructor recursion depth mismatch"), an error of the tool, not of the portal.
        "--seed", SEED, "--workers", "1", "--request-timeout", "300", "--suppress-health-check", "all",
        "--output-truncate", "true", *selection,
    ]
    return subprocess.run(command, cwd=ROOT).returncode == 0


def clock_moves(portal: Portal) -> bool:
    """A valid clock move applies every day on the way for every tenant: tens of seconds for years, so
    the fuzz sends the clock only what it must refuse, and here a few real moves, each answering the
    schema's ClockMoved."""
    say("\n----- support staff moves the clock -----")
    support = Client(portal.base, SUPPORT)
    expected = set(requests.get(f"{portal.base}/api/schema/?format=json", timeout=60).json()
                   ["components"]["schemas"]["ClockMoved"]["properties"])
    ok = True
    today = support.ok("GET", CLOCK)["today"]
    for body in ({"days": 1}, {"business_days": 1, "dry_run": True}, {"days": 30, "dry_run": True},
                 {"to": (date.fromisoformat(today) + timedelta(days=3)).isoformat()}):
        answer = support.call("POST", CLOCK, body)
        fine = answer.status_code == 200 and set(answer.json()) == expected
        say(f"{'ok' if fine else 'FAIL'} POST {CLOCK} {json.dumps(body)}: {answer.status_code} "
            f"{'' if fine else answer.text[:300]}")
        ok &= fine
    return ok


# --- no foreign object reachable -------------------------------------------------------------


class Client:
    def __init__(self, base: str, token: str):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, body=None, **headers) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, headers=headers, timeout=60)

    def ok(self, method: str, path: str, body=None, **headers) -> dict:
        """The answer of a request that must succeed (the seeding's)."""
        answer = self.call(method, path, body, **headers)
        if not answer.ok:
            raise SystemExit(f"{method} {path} {json.dumps(body)}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    def every(self, path: str) -> list[dict]:
        """Every item of a list, page by page (a list that isn't paginated is taken whole)."""
        items, url = [], f"{self.base}{path}?page_size=500"
        while url:
            answer = self.session.get(url, timeout=60)
            answer.raise_for_status()
            data = answer.json()
            if isinstance(data, list):
                return data
            items += data["results"]
            url = data["next"]
        return items


def id_paths(schema: dict) -> dict[str, str]:
    """Each tenant path with an ``{id}``, with the list its ids come from."""
    found = {}
    for path in schema["paths"]:
        if "{id}" not in path or re.match(SUPPORT_PATHS, path):
            continue
        listing = path[:path.index("{id}")]
        if "{" in listing:  # nested (a webhook's deliveries): reached through its parent, probed above
            continue
        if "get" in schema["paths"].get(listing, {}):
            found[path] = listing
    return found


def tenant_lists(schema: dict) -> list[str]:
    return sorted(path for path, operations in schema["paths"].items()
                  if "get" in operations and "{" not in path and not re.match(SUPPORT_PATHS, path)
                  and path != f"{API}me/")


def snapshot(client: Client, lists: list[str]) -> dict:
    """The owner's lists as the owner reads them. A token's ``last_used`` is left out: the owner's own reads
    (this snapshot, ``settle``) note its token's use once a minute, so a sweep over a minute long changed
    it (CI, d3c83bd); the intruder signs in with its own token and can't touch the owner's."""
    return {path: [{k: v for k, v in item.items() if k != "last_used"} if path == f"{API}tokens/" else item
                   for item in client.every(path)] for path in lists}


def settle(client: Client) -> None:
    """Wait (up to a minute) until no plan change of the tenant is queued or running."""
    for _ in range(60):
        if not any(c["status"] in ("queued", "running") for c in client.every(f"{API}plan-changes/")):
            return
        time.sleep(1)


def sample(ids: list[int]) -> list[int]:
    ids = sorted(set(ids))
    if len(ids) <= IDS_PER_KIND:
        return ids
    half = IDS_PER_KIND // 2
    return ids[:half] + ids[-half:]


def body_probes(owner: dict, intruder: dict) -> list[tuple[str, str, dict, set]]:
    """Requests of the intruder's that name one of the owner's objects in the body, with the answers
    that give nothing away."""
    theirs, mine = owner["subscription"], intruder["subscription"]
    users = [intruder["upn"]]
    missing = {(404, "subscription_not_found")}
    probes = [
        ("POST", f"{API}plan-changes/preview/", {"subscription": theirs, "target_sku": "SPB"}, missing),
        ("POST", f"{API}plan-changes/", {"subscription": theirs, "target_sku": "SPB"}, missing),
        ("POST", f"{API}licenses/assign/", {"users": users, "subscription": theirs}, missing),
        ("POST", f"{API}licenses/unassign/", {"users": users, "subscription": theirs}, missing),
        ("POST", f"{API}licenses/preview/", {"users": users, "from_subscription": theirs, "to_subscription": mine},
         missing),
        ("POST", f"{API}licenses/preview/", {"users": users, "from_subscription": mine, "to_subscription": theirs},
         missing),
        ("POST", f"{API}licenses/replace/", {"users": users, "from_subscription": theirs, "to_subscription": mine},
         missing),
        ("POST", f"{API}licenses/replace/", {"users": users, "from_subscription": mine, "to_subscription": theirs},
         missing),
    ]
    # A quote is looked up once the request is otherwise acceptable: the intruder's own subscription may
    # be refused first (422), but the quote must never be found (202) nor be expired or stale (409).
    probes += [("POST", f"{API}plan-changes/", {"subscription": mine, "target_sku": "O365_BUSINESS_PREMIUM",
                                                 "quote_id": quote}, {(404, "quote_not_found"), (422, "*")})
               for quote in owner["quotes"]]
    return probes


def refused(answer: requests.Response, allowed: set) -> str | None:
    content_type = answer.headers.get("Content-Type", "")
    code = answer.json().get("code") if content_type == PROBLEM else None
    if (answer.status_code, code) in allowed or (answer.status_code, "*") in allowed and code:
        return None
    # "…_not_found" allows any object's own code for it (api_token_not_found, webhook_not_found)
    if (answer.status_code, "…_not_found") in allowed and code and code.endswith("not_found"):
        return None
    return f"{answer.status_code} {content_type} {answer.text[:300]}"


def seed(portal: Portal) -> dict:
    """Objects of every kind for both tenants (a payment method, a user, a quote, a plan change), so the
    sweep has ids of each; the fuzz runs among them."""
    quotes = {}
    support = Client(portal.base, SUPPORT)
    for name, token in TENANTS.items():
        client = Client(portal.base, token)
        domain = client.ok("GET", f"{API}me/")["tenant"]["domain"]
        client.ok("POST", f"{API}payment-methods/", {"number": "4242 4242 4242 4242", "expiry": "12/30",
                                                      "holder_name": f"{name} Seed"})
        client.ok("POST", f"{API}users/", {"upn": f"seed.user@{domain}", "display_name": "Seed User"})
        client.ok("POST", f"{API}webhooks/", {"url": f"https://hooks.{name.lower()}.example/portal",
                                              "events": ["plan_change.completed"], "description": "Seed"})
        held = {sub["sku"] for sub in client.every(f"{API}subscriptions/")}
        sku = next(product["sku"] for product in client.every(f"{API}products/") if product["sku"] not in held
                   and product["sku"] in ("O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", "EXCHANGESTANDARD"))
        bought = client.ok("POST", f"{API}subscriptions/", {"sku": sku, "licenses": 1})
        support.ok("POST", f"{API}support/subscriptions/{bought['id']}/provision/", {"reason": "contract run"})
        upgrades = client.ok("GET", f"{API}subscriptions/{bought['id']}/upgrades/")["upgrades"]
        target = next(upgrade["sku"] for upgrade in upgrades if upgrade["supported"])
        change = {"subscription": bought["id"], "target_sku": target}
        quotes[name] = [client.ok("POST", f"{API}plan-changes/preview/", change)["quote_id"]]
        client.ok("POST", f"{API}plan-changes/", {**change, "quote_id": quotes[name][0]},
                  **{"Idempotency-Key": str(uuid.uuid4())})
        say(f"seeded {name}: a card, a user, subscription {bought['id']} ({sku}) changing to {target} "
            f"(quote {quotes[name][0]})")
    return quotes


def own_objects(client: Client, quotes: list[int]) -> dict:
    """A subscription, a user and the quotes of the tenant's."""
    return {"subscription": client.every(f"{API}subscriptions/")[0]["id"],
            "upn": client.every(f"{API}users/")[0]["upn"], "quotes": quotes}


def foreign_sweep(portal: Portal, quotes: dict) -> list[str]:
    schema = requests.get(f"{portal.base}/api/schema/?format=json", timeout=60).json()
    paths, lists = id_paths(schema), tenant_lists(schema)
    failures = []
    for owner_name, intruder_name in (("Contoso", "Fabrikam"), ("Fabrikam", "Contoso")):
        owner, intruder = Client(portal.base, TENANTS[owner_name]), Client(portal.base, TENANTS[intruder_name])
        settle(owner)
        settle(intruder)
        ids = {listing: sample([item["id"] for item in owner.every(listing)]) for listing in set(paths.values())}
        objects = {"owner": own_objects(owner, quotes[owner_name]), "intruder": own_objects(intruder, [])}
        failures += [f"{owner_name} has no {listing} to probe" for listing, found in ids.items() if not found]
        before = snapshot(owner, lists)
        calls = 0
        for path, listing in sorted(paths.items()):
            for method in sorted(m for m in schema["paths"][path] if m in ("get", "post", "patch", "put", "delete")):
                for object_id in ids[listing]:
                    url = re.sub(r"\{code\}", "AUDIO_CONFERENCING", path.replace("{id}", str(object_id)))
                    answer = intruder.call(method.upper(), url, {} if method != "get" else None,
                                           **{"Idempotency-Key": str(uuid.uuid4())})
                    calls += 1
                    if problem := refused(answer, {(404, "not_found"), (404, "…_not_found")}):
                        failures.append(f"{intruder_name} {method.upper()} {url}: {problem}")
        for method, path, body, allowed in body_probes(objects["owner"], objects["intruder"]):
            answer = intruder.call(method, path, body, **{"Idempotency-Key": str(uuid.uuid4())})
            calls += 1
            if problem := refused(answer, allowed):
                failures.append(f"{intruder_name} {method} {path} {json.dumps(body)}: {problem}")
        settle(owner)
        if (after := snapshot(owner, lists)) != before:
            changed = [path for path in lists if before[path] != after[path]]
            failures.append(f"{owner_name}'s data changed while {intruder_name} probed it: {changed}")
        counts = ", ".join(f"{listing.removeprefix(API).rstrip('/')} {len(found)}" for listing, found in
                           sorted(ids.items()))
        say(f"{intruder_name} → {owner_name}'s objects: {calls} requests over {len(paths)} paths with an id "
            f"and {len(body_probes(objects['owner'], objects['intruder']))} bodies ({counts} ids)")
    return failures


def server_errors() -> list[str]:
    lines = (VAR / "access.log").read_text().splitlines()
    return [line for line in lines if line[:1] == "5"]


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the portal on the way out
    ok = True
    with Portal() as portal:
        quotes = seed(portal)
        for name, token in TENANTS.items():
            ok &= schemathesis(portal, f"{name}'s Global admin", token, "--exclude-path-regex", SUPPORT_PATHS,
                               "--exclude-operation-id", TOKEN_REVOKE)
        ok &= schemathesis(portal, "support staff", SUPPORT, "--include-path-regex", SUPPORT_PATHS,
                           "--exclude-operation-id", CLOCK_MOVE)
        ok &= schemathesis(portal, "support staff, moving the clock (refusals only)", SUPPORT,
                           "--include-operation-id", CLOCK_MOVE, "--mode", "negative")
        ok &= clock_moves(portal)
        say("\n----- no foreign object reachable -----")
        failures = foreign_sweep(portal, quotes)
        for failure in failures:
            say(f"FAIL {failure}")
        ok &= not failures
        say("every other tenant's id answered 404" if not failures else f"{len(failures)} foreign objects reachable")
    errors = server_errors()
    say(f"\n----- server errors: {len(errors)} 5xx answers in {VAR / 'access.log'} -----")
    for line in errors[:50]:
        say(line)
    ok &= not errors
    say("\nthe schema holds" if ok else "\nthe schema does NOT hold (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
