"""A scenario file's checks: the schema's, each error named by its path (``tenants[0].subscriptions[1].sku``)
and said in words, then the checks the schema can't make (references, uniqueness, the catalog, dates)."""

import re
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from jsonschema import Draft202012Validator

from billing.models import (
    AddOnProduct,
    BillingFrequency,
    Invoice,
    PaymentHabit,
    PaymentKind,
    Product,
    Subscription,
    Term,
)
from licensing.selectors import upns_taken
from planchange.models import PlanChange
from portal import clock
from portal.models import Tenant
from portal.selectors import api_token_key_in_use
from simulation.scenarios.schema import DATE, MONEY, SCHEMA

_VALIDATOR = Draft202012Validator(SCHEMA)


def fmt_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _pattern_message(error) -> str:
    if error.validator_value == DATE:
        return f"{error.instance!r} is not a date (YYYY-MM-DD)"
    if error.validator_value == MONEY:
        return f"{error.instance!r} is not money (a string with 2 decimals, like \"312.50\")"
    return f"{error.instance!r} is not in the expected form"


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
        return fmt_path(path), _pattern_message(error)
    return fmt_path(path), error.message


class _Checker:
    """Semantic checks after the schema: what the whole file must hold (logins, tokens, domains, users and
    invoice numbers unique across its tenants); each tenant's own by ``_TenantChecks``."""

    def __init__(self, data: dict):
        self.data = data
        self.errors: list[str] = []
        self.products = {p.sku: p for p in Product.objects.prefetch_related("service_plans", "microsoft_plans")}
        self.addons = {a.code: a for a in AddOnProduct.objects.all()}
        self.usernames: set[str] = set()
        self.tokens: set[str] = set()
        self.upns: set[str] = set()
        self.invoice_numbers: set[str] = set()

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
        if username in self.usernames:
            self.err(path, f"username {username!r} appears twice")
        elif get_user_model().objects.filter(username=username).exists():
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
        for t_i, t in enumerate(d.get("tenants", [])):
            p = ["tenants", t_i]
            if t["domain"] in domains:
                self.err([*p, "domain"], f"domain {t['domain']!r} appears twice")
            elif Tenant.objects.filter(domain=t["domain"]).exists():
                self.err([*p, "domain"], f"a tenant with domain {t['domain']!r} already exists")
            domains.add(t["domain"])
            _TenantChecks(self, p, t).run()
        for s_i, s in enumerate(d.get("support_staff", [])):
            self.username(["support_staff", s_i, "username"], s["username"])
            if "api_token" in s:
                self.token(["support_staff", s_i, "api_token"], s["api_token"])
        return self.errors


class _TenantChecks:
    """One tenant of the file: one method per part of it."""

    def __init__(self, checker: _Checker, p: list, t: dict):
        self.c, self.p, self.t = checker, p, t
        self.mca = t.get("agreement", Tenant.Agreement.MOSA) == Tenant.Agreement.MCA
        self.profiles = {bp["key"]: bp for bp in t.get("billing_profiles", [])}
        self.methods = {pm["key"]: pm for pm in t.get("payment_methods", [])}
        self.subs: dict[str, tuple[dict, Product | None]] = {}
        self._existing: set[str] | None = None

    def err(self, path, message):
        self.c.err([*self.p, *path], message)

    def run(self) -> None:
        self.accounts()
        self.admins()
        self.c.unique(self.t.get("subscriptions", []), "key", [*self.p, "subscriptions"], "key")
        for i, s in enumerate(self.t.get("subscriptions", [])):
            self.subscription(i, s)
        for i, u in enumerate(self.t.get("users", [])):
            self.user(i, u)
        self.generated_users()
        for i, inv in enumerate(self.t.get("invoices", [])):
            self.invoice(i, inv)
        self.plan_changes()
        for i, cc in enumerate(self.t.get("credit_checks", [])):
            self.c.date([*self.p, "credit_checks", i, "requested"], cc["requested"])
        for i, inc in enumerate(self.t.get("incidents", [])):
            if "opened" in inc:
                self.c.date([*self.p, "incidents", i, "opened"], inc["opened"])

    def accounts(self) -> None:
        """Billing profiles (MCA only, and an MCA tenant needs one) and payment methods."""
        t = self.t
        self.c.unique(t.get("billing_profiles", []), "key", [*self.p, "billing_profiles"], "key")
        self.c.unique(t.get("billing_profiles", []), "name", [*self.p, "billing_profiles"], "name")
        if self.profiles and not self.mca:
            self.err(["billing_profiles"], "only an MCA tenant has billing profiles (set \"agreement\": \"MCA\")")
        if self.mca and not self.profiles:
            self.err(["billing_profiles"], "an MCA tenant needs a billing profile")
        self.c.unique(t.get("payment_methods", []), "key", [*self.p, "payment_methods"], "key")
        defaults = [i for i, pm in enumerate(t.get("payment_methods", [])) if pm.get("default")]
        if len(defaults) > 1:
            self.err(["payment_methods", defaults[1], "default"], "only one payment method can be the default")
        for i, pm in enumerate(t.get("payment_methods", [])):
            if pm["kind"] == PaymentKind.CARD and "last4" not in pm:
                self.err(["payment_methods", i, "last4"], "a card needs its last four digits")
        self.habit([], t)
        for i, bp in enumerate(t.get("billing_profiles", [])):
            self.habit(["billing_profiles", i], bp)

    def habit(self, path: list, payer: dict) -> None:
        """A late payer says how many days late; the others pay on a day of their own."""
        late = payer.get("payment_habit") == PaymentHabit.LATE
        if late and "payment_delay_days" not in payer:
            self.err([*path, "payment_delay_days"], "a late payer needs its number of days (1 to 365)")
        if not late and "payment_delay_days" in payer:
            self.err([*path, "payment_delay_days"], "only a late payer (\"payment_habit\": \"late\") has days")

    def admins(self) -> None:
        for i, a in enumerate(self.t.get("admins", [])):
            self.c.username([*self.p, "admins", i, "username"], a["username"])
            if "api_token" in a:
                self.c.token([*self.p, "admins", i, "api_token"], a["api_token"])

    def subscription(self, i: int, s: dict) -> None:
        sp = ["subscriptions", i]
        product = self.c.products.get(s["sku"])
        if product is None:
            self.err([*sp, "sku"], f"unknown SKU {s['sku']!r}")
        elif product.max_licenses is not None and s["licenses"] > product.max_licenses:
            self.err([*sp, "licenses"], f"{product.name} allows at most {product.max_licenses} licenses")
        self.subs[s["key"]] = (s, product)
        if "start_date" in s:
            self.c.date([*self.p, *sp, "start_date"], s["start_date"])
        self.trial(sp, s)
        if s.get("term") == Term.P1M and s.get("billing_frequency") == BillingFrequency.ANNUAL:
            self.err([*sp, "billing_frequency"], "a monthly commitment (P1M) is billed monthly")
        if "payment_method" in s and s["payment_method"] not in self.methods:
            self.err([*sp, "payment_method"], f"no payment method with key {s['payment_method']!r}")
        if "billing_profile" in s and s["billing_profile"] not in self.profiles:
            self.err([*sp, "billing_profile"], f"no billing profile with key {s['billing_profile']!r}")
        if self.mca and "billing_profile" not in s and len(self.profiles) > 1:
            self.err([*sp, "billing_profile"], "required when the tenant has several billing profiles")
        seen = set()
        for a_i, code in enumerate(s.get("addons", [])):
            if code not in self.c.addons:
                self.err([*sp, "addons", a_i], f"unknown add-on {code!r}")
            if code in seen:
                self.err([*sp, "addons", a_i], f"add-on {code!r} appears twice")
            seen.add(code)

    def trial(self, sp: list, s: dict) -> None:
        """A trial's end (``trial_ends_on``, ``trial_extended``): a date, and only on a trial."""
        if "trial_ends_on" in s:
            self.c.date([*self.p, *sp, "trial_ends_on"], s["trial_ends_on"])
        for name in ("trial_ends_on", "trial_extended"):
            if name in s and s.get("source") != Subscription.Source.TRIAL:
                self.err([*sp, name], 'only a trial ("source": "trial") has an end')

    def user(self, i: int, u: dict) -> None:
        up, upn, domain = ["users", i], u["upn"], self.t["domain"]
        if upn != upn.lower():
            self.err([*up, "upn"], f"{upn!r} must be lowercase")
        if upn.split("@", 1)[1] != domain and upn.split("@", 1)[1] not in self.t.get("other_domains", ()):
            self.err([*up, "upn"], f"{upn!r} is not in the tenant's domain {domain!r}")
        if upn in self.c.upns:
            self.err([*up, "upn"], f"user {upn!r} appears twice")
        elif upn in self.existing_upns():
            self.err([*up, "upn"], f"a user {upn!r} already exists")
        self.c.upns.add(upn)
        held = set()
        for l_i, lic in enumerate(u.get("licenses", [])):
            key = lic["subscription"]
            if key not in self.subs:
                self.err([*up, "licenses", l_i, "subscription"], f"no subscription with key {key!r}")
                continue
            if key in held:
                self.err([*up, "licenses", l_i, "subscription"], f"the user already holds a license of {key!r}")
            held.add(key)
            self.disabled_plans([*up, "licenses", l_i], lic, self.subs[key][1])

    def existing_upns(self) -> set[str]:
        """The file's user principal names already in the portal: one query a thousand users, not one each."""
        if self._existing is None:
            self._existing = upns_taken([u["upn"] for u in self.t.get("users", [])])
        return self._existing

    def disabled_plans(self, lp: list, lic: dict, product: Product | None) -> None:
        if product is None:
            return
        plans = {sp.name for sp in product.microsoft_plans.all()}  # Microsoft's, as Graph's disabledPlans
        plans.update(p if isinstance(p, str) else p["name"] for p in self.subs[lic["subscription"]][0].get(
            "other_plans", ()))
        for d_i, code in enumerate(lic.get("disabled_plans", [])):
            if code not in plans:
                self.err([*lp, "disabled_plans", d_i], f"{code!r} is not a service plan of {product.name}")

    def generated_users(self) -> None:
        generated = self.t.get("generate_users", [])
        for i, g in enumerate(generated):
            if g["subscription"] not in self.subs:
                self.err(["generate_users", i, "subscription"], f"no subscription with key {g['subscription']!r}")
            pattern = re.compile(rf"^{re.escape(g.get('prefix', 'user'))}(\d+)@{re.escape(self.t['domain'])}$")
            clash = sorted(upn for upn in self.c.upns
                           if (m := pattern.match(upn)) and 1 <= int(m.group(1)) <= g["count"])
            if clash:
                self.err(["generate_users", i, "prefix"], f"generated users would clash with {clash[0]!r}")
        prefixes = [g.get("prefix", "user") for g in generated]
        if len(prefixes) != len(set(prefixes)):
            self.err(["generate_users"], "each generate_users entry needs its own prefix")

    def invoice(self, i: int, inv: dict) -> None:
        ip = ["invoices", i]
        if inv["number"] in self.c.invoice_numbers:
            self.err([*ip, "number"], f"invoice number {inv['number']!r} appears twice")
        elif Invoice.objects.filter(number=inv["number"]).exists():
            self.err([*ip, "number"], f"invoice number {inv['number']!r} already exists")
        self.c.invoice_numbers.add(inv["number"])
        issued = self.c.date([*self.p, *ip, "date"], inv["date"])
        due = self.c.date([*self.p, *ip, "due_date"], inv["due_date"])
        if issued and due and due < issued:
            self.err([*ip, "due_date"], "is before the invoice date")
        amount, paid = Decimal(inv["amount"]), Decimal(inv.get("paid", "0.00"))
        if paid < 0:
            self.err([*ip, "paid"], "cannot be negative")
        elif amount >= 0 and paid > amount:
            self.err([*ip, "paid"], f"is more than the amount {inv['amount']}")
        elif amount < 0 and paid != 0:
            self.err([*ip, "paid"], "a credit invoice has nothing to pay")
        if "billing_profile" in inv and inv["billing_profile"] not in self.profiles:
            self.err([*ip, "billing_profile"], f"no billing profile with key {inv['billing_profile']!r}")

    def plan_changes(self) -> None:
        live = set()
        for i, pc in enumerate(self.t.get("plan_changes", [])):
            pp = ["plan_changes", i]
            if pc["subscription"] not in self.subs:
                self.err([*pp, "subscription"], f"no subscription with key {pc['subscription']!r}")
            elif pc["subscription"] in live:
                self.err([*pp, "subscription"], "a subscription has at most one scheduled or queued change")
            live.add(pc["subscription"])
            if pc["target_sku"] not in self.c.products:
                self.err([*pp, "target_sku"], f"unknown SKU {pc['target_sku']!r}")
            if pc["status"] == PlanChange.Status.SCHEDULED and not self.mca:
                self.err([*pp, "status"], "only an MCA tenant schedules a change at renewal")


def scenario_validate(data) -> list[str]:
    """Every error of the file, the schema's first (then nothing else is checked)."""
    if not isinstance(data, dict):
        return ["(file): a scenario is a JSON object"]
    errors = sorted({"{}: {}".format(*_schema_message(e)) for e in _VALIDATOR.iter_errors(data)})
    if errors:
        return errors
    return _Checker(data).run()
