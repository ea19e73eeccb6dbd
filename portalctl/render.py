"""Rich tables for people; ``--json`` prints the API's objects instead (main.py)."""

import json
import os
import sys
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from portalctl.texts import _, label, money

# Piped or redirected, Rich would squeeze the tables into 80 columns: give them room instead (COLUMNS still wins).
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
out = Console(highlight=False, width=_WIDTH)
state = {"json": False}  # --json: main.options() sets it; errors are printed as JSON too
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() or os.environ.get("COLUMNS") else 200)


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _table(title: str | None, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")  # an id or a SKU is never cut to "O365…"
    return table


def _when(value: str | None) -> str:
    """An API timestamp ("2026-06-15T19:34:54.839182Z") as a person reads it: "2026-06-15 19:34 UTC"."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _cell(value) -> str:
    return "" if value is None else escape(str(value))


def _none(items: list[dict], words: str) -> bool:
    """An empty list is said in words, not drawn as a table of headers."""
    if not items:
        out.print(words)
    return not items


def subscriptions(items: list[dict]) -> None:
    if _none(items, _("No subscriptions.")):
        return
    table = _table(_("Subscriptions"), _("ID"), _("Product"), _("SKU"), _("Status"), _("Licenses"), _("Assigned"),
                   _("Term"), _("Billing"), _("Renewal"), _("Change in progress"))
    for s in items:
        table.add_row(_cell(s["id"]), _cell(s.get("product_name")), _cell(s["sku"]), label("status", s["status"]),
                      _cell(s["licenses"]), _cell(s.get("assigned_licenses")), _cell(s.get("term")),
                      label("frequency", s.get("billing_frequency")), _cell(s.get("renewal_date")),
                      label("bool", bool(s.get("change_in_progress"))))
    out.print(table)


def blockers(items: list[dict], *, console: Console = out, title: str | None = None) -> None:
    """Each blocker: its code, what is wrong (with the specifics) and how to fix it."""
    table = _table(title or _("Blockers"), _("Code"), _("Problem"), _("What to do"), _("Fix"))
    for b in items:
        problem = b.get("title", "") + (f"\n{b['detail']}" if b.get("detail") else "")
        action = b.get("action") or {}
        fix = f"{action.get('label', '')}\n{action.get('url', '')}".strip() if action else ""
        table.add_row(_cell(b.get("code")), _cell(problem), _cell(b.get("resolution")), _cell(fix))
    console.print(table)


def upgrades(data: dict) -> None:
    out.print(_("Can change plans automatically: {answer}", answer=label("bool", data["can_change_automatically"])))
    if data.get("blockers"):
        blockers(data["blockers"])
    table = _table(_("Plans you can change to"), _("SKU"), _("Product"), _("Supported"), _("Reasons"),
                   _("From (per license and month)"))
    for u in data.get("upgrades", []):
        prices = [o["price"] for o in u.get("offers", []) if o.get("price") is not None]
        cheapest = min(prices, key=float) if prices else None
        table.add_row(_cell(u["sku"]), _cell(u.get("name")), label("bool", bool(u.get("supported"))),
                      _cell(", ".join(r["code"] for r in u.get("reasons", []))), money(cheapest))
    out.print(table)
    for u in data.get("upgrades", []):
        for r in u.get("reasons", []):
            out.print(f"{u['sku']}: {r['code']}: {r.get('detail') or r.get('title', '')}", markup=False)


def quote(data: dict) -> None:
    out.print(_("Quote {quote} (valid until {expires}), takes effect {date}", quote=data.get("quote_id"),
                expires=_when(data.get("expires_at")), date=data.get("effective_date")))
    table = _table(None, _("Description"), _("Amount"), _("From"), _("To"))
    for line in data.get("lines", []):
        table.add_row(_cell(line["description"]), money(line["amount"]), _cell(line.get("start")),
                      _cell(line.get("end")))
    out.print(table)
    out.print(_("Credit: {credit}   Charge: {charge}   Total: {total}", credit=money(data["credit"]),
                charge=money(data["charge"]), total=money(data["total"])))
    if data.get("users_count") is not None:
        out.print(_("Users affected: {count}", count=data["users_count"]))


def changes(items: list[dict]) -> None:
    if _none(items, _("No plan changes.")):
        return
    table = _table(_("Plan changes"), _("ID"), _("Status"), _("Subscription"), _("Target"), _("Licenses"),
                   _("Requested"), _("Finished"), _("Error code"))
    for c in items:
        error = c.get("error") or {}
        table.add_row(_cell(c["id"]), label("status", c["status"]), _cell(c["subscription"]), _cell(c["target_sku"]),
                      _cell(c.get("licenses")), _cell(_when(c.get("requested_at"))),
                      _cell(_when(c.get("completed_at"))),
                      _cell(error.get("code")))
    out.print(table)


def users(items: list[dict]) -> None:
    if _none(items, _("No users.")):
        return
    table = _table(_("Users"), _("ID"), _("User name"), _("Name"), _("Licenses"))
    for u in items:
        table.add_row(_cell(u["id"]), _cell(u["upn"]), _cell(u.get("display_name")),
                      _cell(", ".join(f"{lic['sku']} ({lic['subscription']})" for lic in u.get("licenses", []))))
    out.print(table)


def invoices(items: list[dict]) -> None:
    if _none(items, _("No invoices.")):
        return
    table = _table(_("Invoices"), _("ID"), _("Number"), _("Date"), _("Due"), _("Status"), _("Total"), _("Balance"))
    for i in items:
        table.add_row(_cell(i["id"]), _cell(i["number"]), _cell(i.get("date")), _cell(i.get("due_date")),
                      label("status", i.get("status")), money(i.get("total")), money(i.get("balance")))
    out.print(table)


def bulk(rows: list[dict], *, title: str, dry_run: bool) -> None:
    if dry_run:
        table = _table(title, _("Subscription"), _("Licenses"), _("Result"), _("Blockers"), _("Credit"),
                       _("Charge"), _("Total"))
        for r in rows:
            q = r.get("quote") or {}
            table.add_row(_cell(r["subscription"]), _cell(r.get("licenses")), label("row", r["result"]),
                          _cell(_row_details(r)), money(q.get("credit")), money(q.get("charge")),
                          money(q.get("total")))
    else:
        table = _table(title, _("Subscription"), _("Licenses"), _("Result"), _("Change"), _("Status"),
                       _("Details"))
        for r in rows:
            table.add_row(_cell(r["subscription"]), _cell(r.get("licenses")), label("row", r["result"]),
                          _cell(r.get("change")), label("status", r.get("status")), _cell(_row_details(r)))
    out.print(table)


def _row_details(row: dict) -> str:
    if row.get("blockers"):
        return "\n".join(f"{b['code']}: {b.get('title', '')}" for b in row["blockers"])
    return row.get("detail") or ""


def happenings(items: list[dict]) -> None:
    """A move of the clock's happenings, in order."""
    if not items:
        return
    table = _table(None, _("Date"), _("What"), _("Organization"), _("Subject"), _("Detail"))
    for e in items:
        table.add_row(_cell(e["date"]), _cell(label("happening", e["kind"])), _cell(e["tenant_domain"]),
                      _cell(e["subject"]), _cell(e["detail"]))
    out.print(table)
