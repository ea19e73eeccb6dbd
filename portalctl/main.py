"""portalctl: the Plan Change Portal's API from the command line.

Exit codes: 0 done, 1 failed (the network, the portal, or a change that failed), 2 refused
(a 4xx answer, such as a blocked change, or a command that can't run as given).
"""

import os
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer

from portalctl import bulk, follow, render
from portalctl import clock as clock_moves
from portalctl.client import Client, PortalError, Refused
from portalctl.config import config_load, config_path, config_save, settings_resolve
from portalctl.texts import LANGUAGES, _, label, language_set

app = typer.Typer(name="portalctl", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="The Plan Change Portal's API from the command line (exit 0 done, 1 failed, 2 refused).")

Url = Annotated[str | None, typer.Option("--url", show_default=False,
                                         help="The portal's URL (else PORTAL_URL, else the saved login).")]
Token = Annotated[str | None, typer.Option("--token", show_default=False,
                                           help="An API token (else PORTAL_TOKEN, else the saved login).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
Lang = Annotated[str | None, typer.Option("--lang", show_default=False, help="en or sv (else PORTAL_LANG).")]
Key = Annotated[str | None, typer.Option("--idempotency-key", show_default=False,
                                         help="Reuse the key of an earlier run (default: a new UUID, printed).")]
Licenses = Annotated[int | None, typer.Option("--licenses", min=1, show_default=False,
                                              help="Licenses of the new plan (default: the subscription's).")]
Renewal = Annotated[bool, typer.Option("--renewal", help="Change at the renewal (MCA) instead of now.")]
Term = Annotated[str | None, typer.Option("--term", show_default=False, help="P1M, P1Y or P3Y.")]
Frequency = Annotated[str | None, typer.Option("--frequency", show_default=False, help="monthly or annual.")]
Timeout = Annotated[float, typer.Option("--timeout", min=1, help="With --wait: seconds to wait at most.")]
CHANGE_STATUSES = ("scheduled", "queued", "running", "completed", "failed", "cancelled")


@dataclass
class Options:
    url: str | None = None
    token: str | None = None
    json: bool = False
    lang: str | None = None


@app.callback()
def main(ctx: typer.Context, url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Options given before the command apply to it; the same options after it win."""
    ctx.obj = Options(url, token, json_, lang)


def options(ctx: typer.Context, url, token, json_, lang) -> Options:
    base = ctx.obj or Options()
    chosen = Options(url or base.url, token or base.token, json_ or base.json,
                     lang or base.lang or os.environ.get("PORTAL_LANG") or "en")
    if chosen.lang not in LANGUAGES:
        raise Refused(_("Unknown language {lang}: use en or sv.", lang=chosen.lang), code="invalid_option")
    language_set(chosen.lang)
    render.state["json"] = chosen.json
    return chosen


@contextmanager
def session(o: Options):
    url, token = settings_resolve(url=o.url, token=o.token)
    with Client(url, token) as client:
        yield client


def idempotency_key(given: str | None) -> str:
    key = given or str(uuid.uuid4())
    render.err.print(_("Idempotency-Key: {key}", key=key))
    return key


def change_body(subscription: int, target: str, licenses, renewal, term, frequency) -> dict:
    body = {"subscription": subscription, "target_sku": target, "schedule": "renewal" if renewal else "now"}
    for field, value in (("licenses", licenses), ("term", term), ("billing_frequency", frequency)):
        if value is not None:
            body[field] = value
    return body


@app.command()
def login(ctx: typer.Context, url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Save the portal's URL and a token (checked with GET me/ first) in your config directory (0600)."""
    o = options(ctx, url, token, json_, lang)
    saved = config_load()
    url = o.url or os.environ.get("PORTAL_URL") or typer.prompt(_("Portal URL"), default=saved.get("url"))
    token = o.token or os.environ.get("PORTAL_TOKEN") or typer.prompt(_("API token"), hide_input=True)
    with Client(url, token) as client:
        try:
            me = client.get("me/")
        except Refused as exc:
            if exc.status != 401:
                raise
            # Not "sign in again with portalctl login": this is portalctl login.
            raise Refused(_("The portal at {url} refused this token: {detail} Copy it again from Settings > API "
                            "tokens ({code}, HTTP 401).", url=url, code=exc.code,
                            detail=exc.problem.get("detail") or ""), status=401, code=exc.code,
                          problem=exc.problem) from None
    path = config_save(url=url, token=token)
    tenant = (me.get("tenant") or {}).get("name") or _("support staff")
    if o.json:
        render.print_json({"url": url, "username": me["username"], "tenant": me.get("tenant"), "config": str(path)})
        return
    render.out.print(_("Signed in to {url} as {username} ({tenant}).", url=url, username=me["username"],
                       tenant=tenant))
    render.out.print(_("Saved to {path}.", path=config_path()))


@app.command()
def subscriptions(ctx: typer.Context, url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Your organization's subscriptions."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        items = client.pages("subscriptions/")
    render.print_json(items) if o.json else render.subscriptions(items)


@app.command()
def upgrades(ctx: typer.Context, subscription: int, url: Url = None, token: Token = None, json_: Json = False,
             lang: Lang = None):
    """Can SUBSCRIPTION change plans automatically: its blockers with their fixes, and the plans it can change to."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        data = client.get(f"subscriptions/{subscription}/upgrades/")
    render.print_json(data) if o.json else render.upgrades(data)


@app.command()
def preview(ctx: typer.Context, subscription: int, to: Annotated[str, typer.Option("--to", help="Target SKU.")],
            licenses: Licenses = None, renewal: Renewal = False, term: Term = None, frequency: Frequency = None,
            url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """The quote for changing SUBSCRIPTION to another plan (credit, charge, total), or its blockers."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        data = client.post("plan-changes/preview/", change_body(subscription, to, licenses, renewal, term, frequency))
    render.print_json(data) if o.json else render.quote(data)


@app.command()
def change(ctx: typer.Context, subscription: int, to: Annotated[str, typer.Option("--to", help="Target SKU.")],
           licenses: Licenses = None, renewal: Renewal = False, term: Term = None, frequency: Frequency = None,
           wait: Annotated[bool, typer.Option("--wait", help="Follow the steps until the change ends.")] = False,
           quote: Annotated[int | None, typer.Option("--quote", help="A quote_id from preview.")] = None,
           timeout: Timeout = 600.0, key: Key = None,
           url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Change SUBSCRIPTION to another plan; --wait shows the steps (exit 0 completed, 1 failed, 2 refused)."""
    o = options(ctx, url, token, json_, lang)
    body = change_body(subscription, to, licenses, renewal, term, frequency)
    if quote is not None:
        body["quote_id"] = quote
    with session(o) as client:
        started = client.post("plan-changes/", body, headers={"Idempotency-Key": idempotency_key(key)})
        if not wait or started["status"] == "scheduled":
            if o.json:
                render.print_json(started)
                return
            render.out.print(_("Plan change {id}: {status}, subscription {subscription} to {target} ({licenses} "
                               "licenses).", id=started["id"], status=label("status", started["status"]),
                               subscription=started["subscription"], target=started["target_sku"],
                               licenses=started["licenses"]))
            if wait:
                render.out.print(_("Scheduled for the renewal on {date}; --wait doesn't wait for it.",
                                   date=started.get("scheduled_for")))
            return
        final = follow.change_wait(client, started, timeout=timeout, show=not o.json)
    code, words = follow.outcome(final, timeout=timeout)
    if o.json:
        render.print_json(final)
    else:
        (render.out if code == 0 else render.err).print(words)
    raise typer.Exit(code)


@app.command()
def changes(ctx: typer.Context,
            status: Annotated[str | None, typer.Option("--status", show_default=False,
                                                       help="Only changes with this status.")] = None,
            url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Your organization's plan changes, newest first."""
    o = options(ctx, url, token, json_, lang)
    if status is not None and status not in CHANGE_STATUSES:
        raise Refused(_("Unknown status {status}: use one of {choices}.", status=status,
                        choices=", ".join(CHANGE_STATUSES)), code="invalid_option")
    with session(o) as client:
        items = client.pages("plan-changes/", **({"status": status} if status else {}))
    render.print_json(items) if o.json else render.changes(items)


@app.command()
def cancel(ctx: typer.Context, change_id: Annotated[int, typer.Argument(metavar="CHANGE")], url: Url = None,
           token: Token = None, json_: Json = False, lang: Lang = None):
    """Cancel a plan change that is scheduled for the renewal."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        data = client.post(f"plan-changes/{change_id}/cancel/")
    if o.json:
        render.print_json(data)
    else:
        render.out.print(_("Plan change {id} was cancelled.", id=data["id"]))


@app.command()
def users(ctx: typer.Context,
          search: Annotated[str | None, typer.Option("--search", show_default=False,
                                                     help="Match a name or user name.")] = None,
          url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Your directory's users and their licenses."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        items = client.pages("users/", **({"search": search} if search else {}))
    render.print_json(items) if o.json else render.users(items)


@app.command()
def invoices(ctx: typer.Context, url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Your organization's invoices."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        items = client.pages("invoices/")
    render.print_json(items) if o.json else render.invoices(items)


def _bulk_wait(client, rows: list[dict], *, timeout: float) -> None:
    """Follow every change the batch started until it ends (or the timeout); a failed one is marked."""
    for row in rows:
        if row["change"] and row["status"] not in ("completed", "failed", "cancelled", "scheduled"):
            final = follow.change_wait(client, {"id": row["change"], "status": row["status"]}, timeout=timeout,
                                       show=False)
            row["status"] = final["status"]
            exit_code, words = follow.outcome(final, timeout=timeout)
            if exit_code:
                row.update(failed=True, detail=words)


@app.command("bulk-change")
def bulk_change(ctx: typer.Context, source: Annotated[str, typer.Option("--from", help="SKU to change from.")],
                target: Annotated[str, typer.Option("--to", help="SKU to change to.")],
                dry_run: Annotated[bool, typer.Option("--dry-run", help="Show blockers and quotes; change "
                                                                        "nothing.")] = False,
                batch_key: Annotated[str | None, typer.Option("--batch-key", show_default=False, help=(
                    "Reuse or choose the batch's key (default: derived from the tenant, both SKUs and the "
                    "subscriptions, so a plain re-run is the same batch)."))] = None,
                wait: Annotated[bool, typer.Option("--wait", help="Wait until every started change ends.")] = False,
                timeout: Timeout = 600.0,
                url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Change every active subscription of one plan to another (exit 0 all went, 1 one failed, 2 one refused)."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        me, rows, known = bulk.bulk_rows(client, source=source, target=target)
        batch = None
        if dry_run:
            bulk.dry_run(client, rows, target=target)
        else:
            batch = batch_key or bulk.batch_key_default(
                tenant_id=(me.get("tenant") or {}).get("id"), source=source, target=target,
                subscription_ids=[r["subscription"] for r in rows])
            render.err.print(_("Batch key: {key}", key=batch))
            bulk.real_run(client, rows, target=target, batch=batch, known=known)
            if wait:
                _bulk_wait(client, rows, timeout=timeout)
    refused = sum(r["result"] == "refused" for r in rows)
    failed = sum(r["status"] in ("failed", "cancelled") or bool(r.get("failed")) for r in rows)
    code = 2 if refused else 1 if failed else 0
    if o.json:
        render.print_json({"batch_key": batch, "dry_run": dry_run, "rows": rows})
        raise typer.Exit(code)
    if not rows:
        render.out.print(_("No active {sku} subscription.", sku=source))
        raise typer.Exit(0)
    render.bulk(rows, title=_("From {source} to {target}", source=source, target=target), dry_run=dry_run)
    if dry_run:
        render.out.print(_("{ok} of {rows} can change; {refused} refused.", rows=len(rows), refused=refused,
                           ok=sum(r["result"] == "would_change" for r in rows)))
        render.out.print(_("Dry run: nothing was changed."))
    else:
        render.out.print(_("{started} started, {already} already started, {refused} refused.", refused=refused,
                           started=sum(r["result"] == "started" for r in rows),
                           already=sum(r["result"] == "already" for r in rows)))
    raise typer.Exit(code)


Days = Annotated[int | None, typer.Option("--days", min=1, show_default=False, help="Move forward by days.")]
BusinessDays = Annotated[int | None, typer.Option("--business-days", min=1, show_default=False,
                                                  help="Move forward by business days.")]
To = Annotated[str | None, typer.Option("--to", show_default=False, help="Move to a date (YYYY-MM-DD).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="List what would happen; move nothing.")]
MoveId = Annotated[int | None, typer.Option("--move", show_default=False, help="Follow a move already asked for.")]
FollowFor = Annotated[float, typer.Option("--timeout", min=1, help="Seconds to follow the move at most (it goes on).")]


@app.command()
def clock(ctx: typer.Context, days: Days = None, business_days: BusinessDays = None, to: To = None,
          dry_run: DryRun = False, move_id: MoveId = None, timeout: FollowFor = 3600.0,
          url: Url = None, token: Token = None, json_: Json = False, lang: Lang = None):
    """Show the simulation clock, or move it forward (support staff): a progress bar of its days until the
    move is done, then what happened (exit 0 done, 1 failed or still going, 2 refused)."""
    o = options(ctx, url, token, json_, lang)
    with session(o) as client:
        if move_id is None and days is None and business_days is None and to is None:
            now = client.get("support/clock/")
            render.print_json(now) if o.json else render.out.print(_("Simulation date: {today}", today=now["today"]))
            return
        if move_id is not None:
            move = client.get(f"support/clock/moves/{move_id}/")
        else:
            move = client.post("support/clock/", clock_moves.move_body(days, business_days, to, dry_run),
                               headers={"Prefer": "respond-async"})
            render.err.print(_("Clock move {id}", id=move["id"]))
        move = clock_moves.move_follow(client, move, timeout=timeout, show=not o.json)
        if move["status"] == "done" and move.get("events") is None:
            move = client.get(f"support/clock/moves/{move['id']}/")
    render.print_json(move) if o.json else clock_moves.move_print(move, timeout=timeout)
    raise typer.Exit(0 if move["status"] == "done" else 1)


def error_print(exc: PortalError) -> None:
    """The error in words on stderr; with --json also as an object on stdout (the portal's problem+json,
    or ``{code, status, detail}`` for the CLI's own: unreachable, timeout, not_configured, …)."""
    if render.state["json"]:
        render.print_json(exc.problem or {"code": exc.code or "error", "status": exc.status, "detail": exc.message})
    render.err.print(f"{_('Error')}: {exc.message}", markup=False)
    if exc.blockers:
        render.err.print(_("Blockers:"))
        for b in exc.blockers:
            render.err.print(f"- {b.get('code')}: {b.get('title', '')}", markup=False)
            if b.get("detail"):
                render.err.print(f"  {b['detail']}", markup=False)
            if b.get("resolution"):
                render.err.print(f"  {b['resolution']}", markup=False)


def run() -> None:
    """The console script: errors in words on stderr, never a traceback."""
    try:
        app()
    except PortalError as exc:
        error_print(exc)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last net: words, not a traceback
        render.err.print(_("Unexpected error: {error}", error=f"{type(exc).__name__}: {exc}"), markup=False)
        sys.exit(1)
