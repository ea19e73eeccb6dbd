"""Validate a scenario completely, then load it in one transaction.

Validation names the bad field by its path (``tenants[0].subscriptions[1].sku``) and
says what is wrong; a file with any error loads nothing. States the UI would refuse to
create (more users than licenses, an overdue invoice, an expired subscription) are
loaded as they stand: scenarios describe tenants, they do not operate them.
"""

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from jsonschema import Draft202012Validator

from billing.models import AddOnProduct, Invoice, Product
from billing.scenario import billing_load
from licensing.models import DirectoryUser
from licensing.scenario import directory_load
from planchange.scenario import plan_changes_load
from portal import clock
from portal.models import Tenant
from portal.scenario import incidents_load, support_staff_load, tenant_load
from portal.selectors import api_token_key_in_use
from portal.services import event_record
from simulation.scenarios.schema import DATE, MONEY, SCHEMA

_VALIDATOR = Draft202012Validator(SCHEMA)


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


def fmt_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _schema_message(error) -> tuple[str, str]:
    path = list(error.absolute_path)
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1]
        return fmt_path([*path, missing]), "required field is missing"
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return fmt_path([*path, extra[0]]), "unknown field"
    if v == "enum":
        return fmt_path(path), f"{error.instance!r} is not one of: {', '.join(error.validator_value)}"
    if v == "type":
        expected = error.validator_value
        article = "an" if expected[0] in "aeiou" else "a"
        return fmt_path(path), f"must be {article} {expected}, not {type(error.instance).__name__} {error.instance!r}"
    if v == "pattern":
        if error.validator_value == DATE:
            return fmt_path(path), f"{error.instance!r} is not a date (YYYY-MM-DD)"
        if error.validator_value == MONEY:
            return fmt_path(path), f"{error.instance!r} is not money (a string with 2 decimals, like \"312.50\")"
        return fmt_path(path), f"{error.instance!r} is not in the expected form"
    if v in ("minimum", "maximum", "minItems", "minLength", "maxLength"):
        return fmt_path(path), error.message
    return fmt_path(path), error.message


class _Checker:
    """Semantic checks after the schema: references, uniqueness, catalog, dates."""

    def __init__(self, data: dict):
        self.data = data
        self.errors: list[str] = []
        self.products = {p.sku: p for p in Product.objects.prefetch_related("service_plans")}
        self.addons = {a.code: a for a in AddOnProduct.objects.all()}
        self.usernames: set[str] = set()
        self.tokens: set[str] = set()

    def err(self, path, message):
        self.errors.append(f"{fmt_path(path)}: {message}")

    def date(self, path, value) -> date | None:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.err(path, f"{value!r} is not a date (YYYY-MM-DD)")
            return None
        if day > clock.LAST_DAY:
            self.err(path, f"{value!r} is after {clock.LAST_DAY.isoformat()}, the end of the simulation's time")
            return None
        return day

    def unique(self, items, attr, path_prefix, what):
        seen = set()
        for i, item in enumerate(items):
            value = item.get(attr)
            if value in seen:
                self.err([*path_prefix, i, attr], f"{what} {value!r} appears twice")
            seen.add(value)

    def username(self, path, username):
        user_model = get_user_model()
        if username in self.usernames:
            self.err(path, f"username {username!r} appears twice")
        elif user_model.objects.filter(username=username).exists():
            self.err(path, f"a login named {username!r} already exists")
        self.usernames.add(username)

    def token(self, path, key):
        if key in self.tokens or api_token_key_in_use(key=key):
            self.err(path, "this API token is already in use")
        self.tokens.add(key)

    def run(self) -> list[str]:
        d = self.data
        if "clock" in d:
            self.date(["clock"], d["clock"])
        domains = set()
        upns = set()
        invoice_numbers = set()
        for t_i, t in enumerate(d.get("tenants", [])):
            p = ["tenants", t_i]
            if t["domain"] in domains:
                self.err([*p, "domain"], f"domain {t['domain']!r} appears twice")
            elif Tenant.objects.filter(domain=t["domain"]).exists():
                self.err([*p, "domain"], f"a tenant with domain {t['domain']!r} already exists")
            domains.add(t["domain"])
            self.tenant(p, t, upns, invoice_numbers)
        for s_i, s in enumerate(d.get("support_staff", [])):
            self.username(["support_staff", s_i, "username"], s["username"])
            if "api_token" in s:
                self.token(["support_staff", s_i, "api_token"], s["api_token"])
        return self.errors

    def tenant(self, p, t, upns, invoice_numbers):  # noqa: C901 - one check per field
        mca = t.get("agreement", "MOSA") == "MCA"
        profiles = {bp["key"]: bp for bp in t.get("billing_profiles", [])}
        self.unique(t.get("billing_profiles", []), "key", [*p, "billing_profiles"], "key")
        self.unique(t.get("billing_profiles", []), "name", [*p, "billing_profiles"], "name")
        if profiles and not mca:
            self.err([*p, "billing_profiles"], "only an MCA tenant has billing profiles (set \"agreement\": \"MCA\")")
        if mca and not profiles:
            self.err([*p, "billing_profiles"], "an MCA tenant needs a billing profile")
        methods = {pm["key"]: pm for pm in t.get("payment_methods", [])}
        self.unique(t.get("payment_methods", []), "key", [*p, "payment_methods"], "key")
        defaults = [i for i, pm in enumerate(t.get("payment_methods", [])) if pm.get("default")]
        if len(defaults) > 1:
            self.err([*p, "payment_methods", defaults[1], "default"], "only one payment method can be the default")
        for i, pm in enumerate(t.get("payment_methods", [])):
            if pm["kind"] == "card" and "last4" not in pm:
                self.err([*p, "payment_methods", i, "last4"], "a card needs its last four digits")
        for i, a in enumerate(t.get("admins", [])):
            self.username([*p, "admins", i, "username"], a["username"])
            if "api_token" in a:
                self.token([*p, "admins", i, "api_token"], a["api_token"])

        subs = {}
        self.unique(t.get("subscriptions", []), "key", [*p, "subscriptions"], "key")
        for i, s in enumerate(t.get("subscriptions", [])):
            sp = [*p, "subscriptions", i]
            product = self.products.get(s["sku"])
            if product is None:
                self.err([*sp, "sku"], f"unknown SKU {s['sku']!r}")
            elif product.max_licenses is not None and s["licenses"] > product.max_licenses:
                self.err([*sp, "licenses"], f"{product.name} allows at most {product.max_licenses} licenses")
            subs[s["key"]] = (s, product)
            if "start_date" in s:
                self.date([*sp, "start_date"], s["start_date"])
            if s.get("term") == "P1M" and s.get("billing_frequency") == "annual":
                self.err([*sp, "billing_frequency"], "a monthly commitment (P1M) is billed monthly")
            if "payment_method" in s and s["payment_method"] not in methods:
                self.err([*sp, "payment_method"], f"no payment method with key {s['payment_method']!r}")
            if "billing_profile" in s and s["billing_profile"] not in profiles:
                self.err([*sp, "billing_profile"], f"no billing profile with key {s['billing_profile']!r}")
            if mca and "billing_profile" not in s and len(profiles) > 1:
                self.err([*sp, "billing_profile"], "required when the tenant has several billing profiles")
            seen = set()
            for a_i, code in enumerate(s.get("addons", [])):
                if code not in self.addons:
                    self.err([*sp, "addons", a_i], f"unknown add-on {code!r}")
                if code in seen:
                    self.err([*sp, "addons", a_i], f"add-on {code!r} appears twice")
                seen.add(code)

        domain = t["domain"]
        for i, u in enumerate(t.get("users", [])):
            up = [*p, "users", i]
            upn = u["upn"]
            if upn != upn.lower():
                self.err([*up, "upn"], f"{upn!r} must be lowercase")
            if upn.split("@", 1)[1] != domain:
                self.err([*up, "upn"], f"{upn!r} is not in the tenant's domain {domain!r}")
            if upn in upns:
                self.err([*up, "upn"], f"user {upn!r} appears twice")
            elif DirectoryUser.objects.filter(upn=upn).exists():
                self.err([*up, "upn"], f"a user {upn!r} already exists")
            upns.add(upn)
            held = set()
            for l_i, lic in enumerate(u.get("licenses", [])):
                lp = [*up, "licenses", l_i]
                key = lic["subscription"]
                if key not in subs:
                    self.err([*lp, "subscription"], f"no subscription with key {key!r}")
                    continue
                if key in held:
                    self.err([*lp, "subscription"], f"the user already holds a license of {key!r}")
                held.add(key)
                product = subs[key][1]
                if product is None:
                    continue
                plans = {sp.code for sp in product.service_plans.all()}
                for d_i, code in enumerate(lic.get("disabled_plans", [])):
                    if code not in plans:
                        self.err([*lp, "disabled_plans", d_i], f"{code!r} is not a service plan of {product.name}")
        for i, g in enumerate(t.get("generate_users", [])):
            gp = [*p, "generate_users", i]
            if g["subscription"] not in subs:
                self.err([*gp, "subscription"], f"no subscription with key {g['subscription']!r}")
            prefix = g.get("prefix", "user")
            pattern = re.compile(rf"^{re.escape(prefix)}(\d+)@{re.escape(domain)}$")
            clash = sorted(
                upn for upn in upns
                if (m := pattern.match(upn)) and 1 <= int(m.group(1)) <= g["count"]
            )
            if clash:
                self.err([*gp, "prefix"], f"generated users would clash with {clash[0]!r}")
        prefixes = [g.get("prefix", "user") for g in t.get("generate_users", [])]
        if len(prefixes) != len(set(prefixes)):
            self.err([*p, "generate_users"], "each generate_users entry needs its own prefix")

        for i, inv in enumerate(t.get("invoices", [])):
            ip = [*p, "invoices", i]
            if inv["number"] in invoice_numbers:
                self.err([*ip, "number"], f"invoice number {inv['number']!r} appears twice")
            elif Invoice.objects.filter(number=inv["number"]).exists():
                self.err([*ip, "number"], f"invoice number {inv['number']!r} already exists")
            invoice_numbers.add(inv["number"])
            issued = self.date([*ip, "date"], inv["date"])
            due = self.date([*ip, "due_date"], inv["due_date"])
            if issued and due and due < issued:
                self.err([*ip, "due_date"], "is before the invoice date")
            amount, paid = Decimal(inv["amount"]), Decimal(inv.get("paid", "0.00"))
            if paid < 0:
                self.err([*ip, "paid"], "cannot be negative")
            elif amount >= 0 and paid > amount:
                self.err([*ip, "paid"], f"is more than the amount {inv['amount']}")
            elif amount < 0 and paid != 0:
                self.err([*ip, "paid"], "a credit invoice has nothing to pay")
            if "billing_profile" in inv and inv["billing_profile"] not in profiles:
                self.err([*ip, "billing_profile"], f"no billing profile with key {inv['billing_profile']!r}")
        for i, cc in enumerate(t.get("credit_checks", [])):
            self.date([*p, "credit_checks", i, "requested"], cc["requested"])
        live = set()
        for i, pc in enumerate(t.get("plan_changes", [])):
            pp = [*p, "plan_changes", i]
            if pc["subscription"] not in subs:
                self.err([*pp, "subscription"], f"no subscription with key {pc['subscription']!r}")
            elif pc["subscription"] in live:
                self.err([*pp, "subscription"], "a subscription has at most one scheduled or queued change")
            live.add(pc["subscription"])
            if pc["target_sku"] not in self.products:
                self.err([*pp, "target_sku"], f"unknown SKU {pc['target_sku']!r}")
            if pc["status"] == "scheduled" and not mca:
                self.err([*pp, "status"], "only an MCA tenant schedules a change at renewal")
        for i, inc in enumerate(t.get("incidents", [])):
            if "opened" in inc:
                self.date([*p, "incidents", i, "opened"], inc["opened"])


def scenario_validate(data) -> list[str]:
    if not isinstance(data, dict):
        return ["(file): a scenario is a JSON object"]
    errors = sorted(
        {"{}: {}".format(*_schema_message(e)) for e in _VALIDATOR.iter_errors(data)}
    )
    if errors:
        return errors
    return _Checker(data).run()


# Where a tenant keeps its dates (besides the file's "clock"): they move together when a file is shifted.
DATED = (("subscriptions", ("start_date",)), ("invoices", ("date", "due_date")), ("credit_checks", ("requested",)),
         ("incidents", ("opened",)))


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
def scenario_load(data, *, source: str = "scenario") -> LoadReport:
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
        report.tenants.append(_load_tenant(t, today=today, report=report, source=source))
    for s in data.get("support_staff", []):
        user = support_staff_load(s)
        event_record(tenant=None, actor="scenario", verb="support_staff.created", obj=user,
                     data={"username": user.username, "source": source})
        report.lines.append(f"support staff {user.username}")
    return report


def _load_tenant(t, *, today, report, source) -> Tenant:
    tenant = tenant_load(t)
    subs = billing_load(tenant, t, today=today).subscriptions
    users = directory_load(tenant, t, subscriptions=subs)
    incidents_load(tenant, t.get("incidents", []))
    plan_changes_load(tenant, t.get("plan_changes", []), subscriptions=subs, today=today)
    counts = {
        "subscriptions": len(subs), "users": users,
        "admins": len(t.get("admins", [])), "invoices": len(t.get("invoices", [])),
        "credit_checks": len(t.get("credit_checks", [])), "incidents": len(t.get("incidents", [])),
    }
    event_record(tenant=tenant, actor="scenario", verb="tenant.loaded", obj=tenant,
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
