"""Following a plan change until it ends: a Rich progress bar of its six steps, and its outcome
as an exit code (0 completed, 1 failed, cancelled, stuck or still going at the timeout)."""

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from portalctl import render
from portalctl.client import Client, Interrupted
from portalctl.texts import _, label, money

STEPS = ["validate", "provision", "migrate_licenses", "bill", "cancel_source", "complete"]
FINISHED = ("done", "skipped", "failed")


def stuck_step(change: dict) -> dict | None:
    """The failed step of a change that stays ``running`` until support retries it."""
    if change["status"] != "running" or not change.get("error"):
        return None
    return next((s for s in change.get("steps", []) if s["status"] == "failed"), None)


def change_ended(change: dict) -> bool:
    return change["status"] in ("completed", "failed", "cancelled") or stuck_step(change) is not None


def change_wait(client: Client, change: dict, *, timeout: float, interval: float = 0.5,
                show: bool = True) -> dict:
    """Poll GET plan-changes/{id}/ until the change ends or ``timeout`` seconds pass; with ``show``, a
    progress bar and a line per finished step. Ctrl-C stops following, not the change."""
    try:
        return _wait(client, change, timeout=timeout, interval=interval, show=show)
    except KeyboardInterrupt:
        raise Interrupted(_("Interrupted; plan change {id} goes on: follow it with portalctl changes.",
                            id=change["id"]), code="interrupted") from None


def _wait(client: Client, change: dict, *, timeout: float, interval: float, show: bool) -> dict:
    deadline = time.monotonic() + timeout
    if not show:
        while not change_ended(change) and time.monotonic() < deadline:
            time.sleep(interval)
            change = client.get(f"plan-changes/{change['id']}/")
        return change
    reported: set[str] = set()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=render.out) as progress:
        task = progress.add_task(_("Plan change {id}", id=change["id"]), total=len(STEPS))
        while True:
            steps = {s["name"]: s for s in change.get("steps", [])}
            for name in STEPS:
                step = steps.get(name)
                if step and step["status"] in FINISHED and name not in reported:
                    reported.add(name)
                    mark = "✗" if step["status"] == "failed" else "✓"
                    progress.console.print(f"{mark} " + _("Step {step}: {status}", step=label("step", name),
                                                          status=label("status", step["status"])))
            current = next((steps[n] for n in STEPS if n in steps and steps[n]["status"] not in FINISHED), None)
            description = _("Plan change {id}", id=change["id"]) + f" · {label('status', change['status'])}"
            if current is not None and change["status"] == "running":
                description += f" · {label('step', current['name'])}"
            progress.update(task, completed=sum(1 for n in STEPS if n in steps and steps[n]["status"] in FINISHED),
                            description=description)
            if change_ended(change) or time.monotonic() >= deadline:
                return change
            time.sleep(interval)
            change = client.get(f"plan-changes/{change['id']}/")


def outcome(change: dict, *, timeout: float) -> tuple[int, str]:
    """The exit code and the sentence that says how the change ended."""
    error = change.get("error") or {}
    reason = error.get("detail") or error.get("code") or ""
    if error.get("code") == "blocked" and change.get("blockers"):
        reason = f"{reason} ({', '.join(change['blockers'])})"
    step = stuck_step(change)
    if change["status"] == "completed":
        words = _("Plan change {id} completed: subscription {old} was replaced by subscription {new}.",
                  id=change["id"], old=change["subscription"], new=change.get("new_subscription"))
        if change.get("credit") is not None and change.get("invoice") is not None:
            words += " " + _("Credit {credit} on invoice {invoice}.", credit=money(change["credit"]),
                             invoice=change["invoice"])
        return 0, words
    if change["status"] == "failed":
        return 1, _("Plan change {id} failed: {reason}", id=change["id"], reason=reason)
    if change["status"] == "cancelled":
        return 1, _("Plan change {id} was cancelled.", id=change["id"])
    if step is not None:
        return 1, _("Plan change {id} stopped at step {step}: {reason} Support must retry it.", id=change["id"],
                    step=label("step", step["name"]), reason=step.get("error") or reason)
    return 1, _("Plan change {id} was still {status} after {seconds} seconds; follow it with portalctl changes.",
                id=change["id"], status=label("status", change["status"]), seconds=int(timeout))
