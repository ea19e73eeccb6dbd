#!/usr/bin/env python3
"""Upgrade every active Microsoft 365 Business Basic subscription of a tenant to Business
Standard, with the portal's REST API alone (Python's standard library, nothing to install).

    PORTAL_URL=http://127.0.0.1:8000 PORTAL_TOKEN=contoso-global-admin-demo-token \\
        python examples/upgrade_business_basic.py

For each subscription: preview (the quote), request the change with an Idempotency-Key and the
quote_id, then poll the change until it ends. The key is derived from the subscription, so running
the script again replays a change already requested (within 24 hours) instead of making a second
one. Exit code: 0 every change completed (or there was nothing to do), 1 one failed, 2 one refused.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

SOURCE = "O365_BUSINESS_ESSENTIALS"  # Business Basic
TARGET = "O365_BUSINESS_PREMIUM"  # Business Standard
TIMEOUT = float(os.environ.get("UPGRADE_TIMEOUT", "300"))


class ApiError(Exception):
    def __init__(self, status: int, problem: dict):
        super().__init__(f"{problem.get('detail') or problem.get('title')} ({problem.get('code')}, HTTP {status})")
        self.status = status
        self.problem = problem


def api(method: str, path: str, body: dict | None = None, headers: dict | None = None):
    base = os.environ["PORTAL_URL"].rstrip("/") + "/api/v1/"
    url = path if path.startswith("http") else base + path
    request = urllib.request.Request(  # noqa: S310 - the portal's http(s) URL
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {os.environ['PORTAL_TOKEN']}", "Content-Type": "application/json",
                 "Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the portal's URL, http(s)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise ApiError(exc.code, json.loads(exc.read() or b"{}")) from None


def every(path: str) -> list[dict]:
    page, items = api("GET", path), []
    while True:
        items += page["results"]
        if not page["next"]:
            return items
        page = api("GET", page["next"])


def wait(change: dict) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        stuck = change["status"] == "running" and change.get("error")  # waits for support to retry a step
        if change["status"] in ("completed", "failed", "cancelled") or stuck:
            return change
        time.sleep(1)
        change = api("GET", f"plan-changes/{change['id']}/")
    return change


def upgrade(subscription: dict) -> int:
    sid = subscription["id"]
    body = {"subscription": sid, "target_sku": TARGET}
    try:
        quote = api("POST", "plan-changes/preview/", body)
        print(f"subscription {sid}: quote {quote['quote_id']}: credit {quote['credit']}, charge {quote['charge']}, "
              f"total {quote['total']}")
        change = api("POST", "plan-changes/", {**body, "quote_id": quote["quote_id"]},
                     headers={"Idempotency-Key": f"upgrade-business-basic:{sid}"})
    except ApiError as exc:
        print(f"subscription {sid}: refused: {exc}")
        for blocker in exc.problem.get("blockers", []):
            print(f"  - {blocker['code']}: {blocker['title']} {blocker.get('detail') or ''}")
        return 2 if 400 <= exc.status < 500 else 1
    print(f"subscription {sid}: plan change {change['id']} {change['status']}")
    change = wait(change)
    if change["status"] == "completed":
        print(f"subscription {sid}: completed; now subscription {change['new_subscription']} "
              f"(invoice {change['invoice']}, credit {change['credit']})")
        return 0
    print(f"subscription {sid}: plan change {change['id']} {change['status']}: {change.get('error')}")
    return 1


def main() -> int:
    if not os.environ.get("PORTAL_URL") or not os.environ.get("PORTAL_TOKEN"):
        print("Set PORTAL_URL and PORTAL_TOKEN.", file=sys.stderr)
        return 2
    try:
        basic = [s for s in every("subscriptions/") if s["sku"] == SOURCE and s["status"] == "active"]
        if not basic:
            print("No active Business Basic subscription.")
            return 0
        return max(upgrade(s) for s in basic)
    except (ApiError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
