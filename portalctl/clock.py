"""Moving the simulation clock (support staff): the move asked for without waiting on the request
(``Prefer: respond-async``), then followed with a Rich progress bar of its days until it is done, and
what happened on the way."""

import time
from collections import Counter

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from portalctl import render
from portalctl.client import Client, Interrupted
from portalctl.texts import _, label

SHOWN = 30  # happenings listed; the count by kind says the rest


def move_body(days: int | None, business_days: int | None, to: str | None, dry_run: bool) -> dict:
    body: dict = {"dry_run": True} if dry_run else {}
    if days is not None:
        body["days"] = days
    if business_days is not None:
        body["business_days"] = business_days
    if to is not None:
        body["to"] = to
    return body


def move_follow(client: Client, move: dict, *, timeout: float, show: bool, interval: float = 0.5) -> dict:
    """Poll GET support/clock/moves/{id}/ until the move is done or failed, or ``timeout`` seconds pass.
    Ctrl-C stops following, not the move."""
    deadline = time.monotonic() + timeout
    try:
        if not show:
            while move["status"] not in ("done", "failed") and time.monotonic() < deadline:
                time.sleep(interval)
                move = client.get(move["url"].removeprefix("/api/v1/"))
            return move
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn(_("days")), TimeElapsedColumn(), console=render.out) as progress:
            title = _("Preview to {to}", to=move["to"]) if move["dry_run"] else _("Moving to {to}", to=move["to"])
            task = progress.add_task(title, total=max(move["days_total"], 1))
            while True:
                progress.update(task, completed=move["days_done"] if move["days_total"] else 1,
                                description=title + " · " + _("{n} happened", n=move["happenings"]))
                if move["status"] in ("done", "failed") or time.monotonic() >= deadline:
                    return move
                time.sleep(interval)
                move = client.get(move["url"].removeprefix("/api/v1/"))
    except KeyboardInterrupt:
        raise Interrupted(_("Interrupted; the move of the clock goes on: follow it with portalctl clock --move {id}.",
                            id=move["id"]), code="interrupted") from None


def move_print(move: dict, *, timeout: float) -> None:
    """What the move did (or would do): the count by kind, then the first happenings in order; or why
    it stopped, or that it goes on."""
    if move["status"] == "failed":
        render.err.print(_("The move stopped on {day} with an error: {error}",
                           day=move["applied_through"] or move["from"], error=move["error"]), markup=False)
        return
    if move["status"] != "done":
        render.err.print(_("Still going after {seconds} s ({done} of {total} days): follow it with portalctl clock "
                           "--move {id}.", seconds=int(timeout), done=move["days_done"], total=move["days_total"],
                           id=move["id"]))
        return
    events = move.get("events") or []
    if move["dry_run"]:
        render.out.print(_("Dry run from {start} to {end}: {n} things would happen; nothing moved.",
                           start=move["from"], end=move["to"], n=len(events)))
    else:
        render.out.print(_("The clock moved from {start} to {end}: {n} things happened.",
                           start=move["from"], end=move["to"], n=len(events)))
    for kind, n in sorted(Counter(e["kind"] for e in events).items()):
        render.out.print(f"  {label('happening', kind)}: {n}", markup=False)
    render.happenings(events[:SHOWN])
    if len(events) > SHOWN:
        render.out.print(_("… and {n} more (--json lists them all).", n=len(events) - SHOWN))
