"""bulk-change: every active subscription of one product to another, with a dry run.

The dry run shows each subscription's blockers (GET upgrades/) and quote (POST preview/) and
changes nothing. The real run starts each change with the key ``<batch>:<subscription id>``.
The batch key is derived from the tenant, both SKUs and the subscriptions of the batch (the
active ones and those a change to the target already replaced), so a plain re-run is the same
batch with the same keys: the portal replays a change already started instead of making a second
one, and a subscription whose change is under way or done is reported ``already``, never
changed twice. Keys are kept 24 hours by the portal; to try refused or failed rows again sooner,
give a new ``--batch-key``.
"""

import hashlib

from portalctl.client import Client, PortalError

UNDER_WAY = ("queued", "running", "scheduled")


def batch_key_default(*, tenant_id, source: str, target: str, subscription_ids: list[int]) -> str:
    ids = ",".join(str(i) for i in sorted(subscription_ids))
    digest = hashlib.sha256(f"{tenant_id}:{source}:{target}:{ids}".encode()).hexdigest()[:24]
    return f"bulk-{digest}"


def row_key(batch: str, subscription_id: int) -> str:
    key = f"{batch}:{subscription_id}"
    if len(key) > 255:  # the portal's limit
        key = f"bulk-{hashlib.sha256(key.encode()).hexdigest()}:{subscription_id}"
    return key


def bulk_rows(client: Client, *, source: str, target: str) -> tuple[dict, list[dict], dict]:
    """(me, rows, changes by id): one row per active ``source`` subscription, and one ``already``
    row per ``source`` subscription that a completed change to ``target`` replaced."""
    me = client.get("me/")
    subscriptions = [s for s in client.pages("subscriptions/") if s["sku"] == source]
    changes = client.pages("plan-changes/")
    by_subscription: dict[int, list[dict]] = {}
    for change in changes:
        by_subscription.setdefault(change["subscription"], []).append(change)  # newest first
    rows = []
    for s in sorted(subscriptions, key=lambda s: s["id"]):
        row = {"subscription": s["id"], "licenses": s["licenses"], "result": None, "change": None, "status": None,
               "blockers": [], "detail": None, "quote": None}
        own = by_subscription.get(s["id"], [])
        if s["status"] == "active":
            under_way = next((c for c in own if c["status"] in UNDER_WAY), None)
            if s.get("change_in_progress") or (under_way and under_way["status"] != "scheduled"):
                row.update(result="already", change=under_way and under_way["id"],
                           status=under_way and under_way["status"])
            rows.append(row)
        else:
            done = next((c for c in own if c["status"] == "completed" and c["target_sku"] == target), None)
            if done is not None:
                rows.append({**row, "result": "already", "change": done["id"], "status": "completed"})
    return me, rows, {c["id"]: c for c in changes}


def row_blockers(client: Client, subscription_id: int, target: str) -> list[dict]:
    """What stops this subscription changing to ``target``: its own blockers and the target's reasons."""
    upgrades = client.get(f"subscriptions/{subscription_id}/upgrades/")
    found = list(upgrades.get("blockers", []))
    offer = next((u for u in upgrades.get("upgrades", []) if u["sku"] == target), None)
    if offer is not None:
        found += [r for r in offer.get("reasons", []) if r["code"] not in {b["code"] for b in found}]
    return found


def dry_run(client: Client, rows: list[dict], *, target: str) -> None:
    for row in rows:
        if row["result"] == "already":
            continue
        row["blockers"] = row_blockers(client, row["subscription"], target)
        if row["blockers"]:
            row["result"] = "refused"
            continue
        try:
            row["quote"] = client.post("plan-changes/preview/", {"subscription": row["subscription"],
                                                                 "target_sku": target})
            row["result"] = "would_change"
        except PortalError as exc:
            row.update(result="refused", blockers=exc.blockers, detail=None if exc.blockers else exc.message)


def real_run(client: Client, rows: list[dict], *, target: str, batch: str, known: dict) -> None:
    for row in rows:
        if row["result"] == "already":
            continue
        row["blockers"] = row_blockers(client, row["subscription"], target)
        if row["blockers"]:  # not sent: a refusal would be replayed for 24 hours even once it is fixed
            row["result"] = "refused"
            continue
        key = row_key(batch, row["subscription"])
        try:
            change = client.post("plan-changes/", {"subscription": row["subscription"], "target_sku": target},
                                 headers={"Idempotency-Key": key})
        except PortalError as exc:
            if exc.code == "change_in_progress":
                row.update(result="already", detail=exc.message)
            else:
                row.update(result="refused", blockers=exc.blockers, detail=None if exc.blockers else exc.message)
            continue
        # The portal replays the change an earlier run started with this key: not a new one.
        replayed = known.get(change["id"])
        row.update(result="already" if replayed else "started", change=change["id"],
                   status=(replayed or change)["status"])
        row["key"] = key
