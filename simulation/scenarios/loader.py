"""Validate a scenario completely, then load it in one transaction.

Validation names the bad field by its path (``tenants[0].subscriptions[1].sku``) and
says what is wrong; a file with any error loads nothing. States the UI would refuse to
create (more users than licenses, an overdue invoice, an expired subscription) are
loaded as they stand: scenarios describe tenants, they do not operate them.
"""

import copy
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction

from billing.scenario import billing_load
from licensing.scenario import directory_load
from planchange.scenario import plan_changes_load
from portal import clock
from portal.models import Tenant
from portal.scenario import incidents_load, support_staff_load, tenant_load
from portal.services import event_record
from simulation.scenarios.checks import fmt_path, scenario_validate
from simulation.verbs import SUPPORT_STAFF_CREATED, TENANT_LOADED


class ScenarioError(Exception):
    """A scenario that cannot be loaded; ``errors`` are ``"path: what is wrong"`` lines."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class LoadReport:
    clock: date | None = None
    lines: list[str] = field(default_factory=list)
    tenants: list[Tenant] = field(default_factory=list)


# Where a tenant keeps its dates (besides the file's "clock"): they move together when a file is shifted.
DATED = (("subscriptions", ("start_date", "trial_ends_on")), ("invoices", ("date", "due_date")),
         ("credit_checks", ("requested",)), ("incidents", ("opened",)))


def _dated(data):
    """(path, item, field) of every date of the file's tenants."""
    for t_i, t in enumerate(data.get("tenants", [])):
        for key, fields in DATED:
            for i, item in enumerate(t.get(key, [])):
                for name in fields:
                    if name in item:
                        yield ["tenants", t_i, key, i, name], item, name


def _days_to_shift(data) -> int:
    """How far the file's dates move forward so that loading it never moves the clock back: a
    file whose clock is earlier than the portal's is loaded as if written today."""
    if "clock" not in data or not clock.has_been_set():
        return 0
    return max((clock.today() - date.fromisoformat(data["clock"])).days, 0)


def _shifted(data: dict, days: int) -> dict:
    """A copy of the file with every date ``days`` later (the clock stays where it is), or the
    errors of dates that would pass the end of time."""
    data = copy.deepcopy(data)
    del data["clock"]
    errors = []
    for path, item, name in _dated(data):
        moved = date.fromisoformat(item[name]) + timedelta(days=days)
        if moved > clock.LAST_DAY:
            errors.append(f"{fmt_path(path)}: {item[name]!r} would be {moved.isoformat()} once the file's dates "
                          f"move forward {days} days, after {clock.LAST_DAY.isoformat()}, the end of the "
                          f"simulation's time")
        item[name] = moved.isoformat()
    if errors:
        raise ScenarioError(errors)
    return data


@transaction.atomic
def scenario_load(data, *, source: str = "scenario", progress=None) -> LoadReport:
    """Load a whole scenario or, on any error, raise ``ScenarioError`` and load nothing. Each app
    writes its own rows (``portal.scenario``, ``billing.scenario``, ``licensing.scenario``,
    ``planchange.scenario``); this
    validates the file, keeps time from running back, and writes none itself."""
    errors = scenario_validate(data)
    if errors:
        raise ScenarioError(errors)
    report = LoadReport()
    days = _days_to_shift(data)
    if days:
        report.lines.append(
            f"clock stays at {clock.today().isoformat()} (the file's {data['clock']} is earlier; time never runs "
            f"back): every date of the file moved forward {days} days")
        data = _shifted(data, days)
    if "clock" in data:
        report.clock = date.fromisoformat(data["clock"])
        clock.set_date(report.clock)
        report.lines.append(f"clock set to {report.clock.isoformat()}")
    today = clock.today()
    for t in data.get("tenants", []):
        report.tenants.append(_load_tenant(t, today=today, report=report, source=source, progress=progress))
    for s in data.get("support_staff", []):
        user = support_staff_load(s)
        event_record(tenant=None, actor="scenario", verb=SUPPORT_STAFF_CREATED, obj=user,
                     data={"username": user.username, "source": source})
        report.lines.append(f"support staff {user.username}")
    return report


def _load_tenant(t, *, today, report, source, progress=None) -> Tenant:
    tenant = tenant_load(t)
    subs = billing_load(tenant, t, today=today).subscriptions
    users = directory_load(tenant, t, subscriptions=subs, progress=progress)
    incidents_load(tenant, t.get("incidents", []))
    plan_changes_load(tenant, t.get("plan_changes", []), subscriptions=subs, today=today)
    counts = {
        "subscriptions": len(subs), "users": users,
        "admins": len(t.get("admins", [])), "invoices": len(t.get("invoices", [])),
        "credit_checks": len(t.get("credit_checks", [])), "incidents": len(t.get("incidents", [])),
    }
    event_record(tenant=tenant, actor="scenario", verb=TENANT_LOADED, obj=tenant,
                 data={"source": source, **counts})
    report.lines.append(
        f"tenant {tenant.name} ({tenant.domain}, {tenant.agreement}, {tenant.kind}): "
        + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
    )
    return tenant


def scenario_read(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScenarioError([f"(file): {path} does not exist"]) from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"(file): not UTF-8 text ({exc.reason})"]) from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError([f"(file): not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]) from exc


def scenario_load_file(path) -> LoadReport:
    return scenario_load(scenario_read(path), source=str(path))
