"""A checked Graph export as a scenario tenant (CONTRACT.md "Scenario files"), which the scenario loader then
loads like any other, each app writing its own rows:

- SKUs map to catalog products by ``skuId``; a SKU the catalog doesn't have is left out, listed with its
  licenses and users;
- each ``directory/subscriptions`` entry is a subscription: ``totalLicenses``, ``status`` (Enabled → active,
  Warning → expired, Suspended → disabled, LockedOut → cancelled, Deleted → deleted), ``isTrial`` (a trial ending
  at ``nextLifecycleDateTime``), ``createdDateTime`` (its start). A file without them: each SKU's
  ``prepaidUnits`` (enabled, warning, suspended, lockedOut) give one subscription per non-zero status;
- a user's license of a SKU goes to the SKU's subscriptions in order (active first, then the oldest), each
  filled up to its licenses, the rest to the first: more users than licenses stays as it is;
- disabled plans by ``servicePlanId``: Microsoft's plan name, or for a plan the catalog doesn't know the name
  the file's ``servicePlans`` give it (kept as it is; the GUID itself when the file names it nowhere), with its
  id beside it (the subscription's ``other_plans``), by which Graph answers it again;
- what Graph doesn't say comes from ``Choices``, each default stated in the import's result."""

import secrets
from collections import Counter
from dataclasses import dataclass, field

from billing.models import BillingFrequency, MicrosoftServicePlan, PaymentKind, Product, Term
from portal.models import Tenant
from simulation.imports import anonymize
from simulation.imports.export_file import Export

STATUS = {"Enabled": "active", "Warning": "expired", "Suspended": "disabled", "LockedOut": "cancelled",
          "Deleted": "deleted"}
UNITS = {"enabled": "active", "warning": "expired", "suspended": "disabled", "lockedOut": "cancelled"}
_ORDER = list(STATUS.values())


@dataclass
class Choices:
    """What Graph doesn't say, with the defaults an import states: ``terms`` per subscription (its Graph id or
    its SKU's part number) → (term, billing frequency)."""

    agreement: str = Tenant.Agreement.MOSA
    kind: str = Tenant.Kind.COMMERCIAL
    term: str = Term.P1Y
    billing_frequency: str = BillingFrequency.MONTHLY
    terms: dict[str, tuple[str, str]] = field(default_factory=dict)
    payment: str = PaymentKind.CARD
    admin: str = ""  # the login made for the import; default admin@<domain>
    anonymize: bool = False


@dataclass
class Converted:
    scenario: dict
    domain: str
    admin: str
    password: str
    unknown_skus: list[dict] = field(default_factory=list)  # {skuId, skuPartNumber, licenses, users}
    unknown_plans: list[dict] = field(default_factory=list)  # {servicePlanId, name, users}
    assumed: list[tuple[str, str]] = field(default_factory=list)  # (what, value) Graph didn't say
    # Where in the file each scenario user and each subscription's licenses came from (the import's refusals
    # name what the file says, not the scenario it became): users in order, subscriptions by key.
    user_paths: list[str] = field(default_factory=list)
    count_paths: dict[str, str] = field(default_factory=dict)


def _day(value) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 10 and value[4] == "-" else None


class _Converter:
    def __init__(self, export: Export, choices: Choices):
        self.export, self.choices = export, choices
        self.products = {str(p.sku_id): p for p in Product.objects.all()}
        self.plan_names = {str(i): n for i, n in MicrosoftServicePlan.objects.values_list("service_plan_id", "name")}
        self.file_plans = {plan["servicePlanId"].lower(): plan["servicePlanName"]
                           for sku in export.skus for plan in sku["servicePlans"]}
        self.domains: dict[str, str] = {}
        self.unknown_skus: dict[str, dict] = {}
        self.unknown_plans: dict[str, dict] = {}
        self.count_paths: dict[str, str] = {}

    def domain_of(self, real: str) -> str:
        real = real.lower()
        if real not in self.domains:
            self.domains[real] = anonymize.domain(real) if self.choices.anonymize else real
        return self.domains[real]

    def term(self, sub_id: str, part: str) -> tuple[str, str]:
        term, frequency = self.choices.terms.get(sub_id) or self.choices.terms.get(part) or (
            self.choices.term, self.choices.billing_frequency)
        return term, BillingFrequency.MONTHLY if term == Term.P1M else frequency

    def subscription(self, key: str, product: Product, licenses: int, status: str) -> dict:
        term, frequency = self.term(key, product.sku)
        return {"key": key, "sku": product.sku, "licenses": licenses, "status": status, "term": term,
                "billing_frequency": frequency, "recurring_billing": status == "active"}

    def subscriptions(self) -> dict[str, list[dict]]:
        """skuId → its subscriptions, in the order users fill them."""
        by_sku: dict[str, list[dict]] = {}
        for sku in self.export.skus:
            sku_id = sku["skuId"].lower()
            if sku_id not in self.products:
                units = sku["prepaidUnits"]
                self.unknown_skus[sku_id] = {"skuId": sku_id, "skuPartNumber": sku["skuPartNumber"],
                                             "licenses": sum(units.get(k, 0) for k in UNITS), "users": 0}
            by_sku[sku_id] = []
        for i, s in enumerate(self.export.subscriptions or []):
            sku_id = s["skuId"].lower()
            if sku_id in self.unknown_skus:
                continue
            entry = self.subscription(s["id"], self.products[sku_id], s["totalLicenses"], STATUS[s["status"]])
            self.count_paths[s["id"]] = f"$['directory/subscriptions'].value[{i}].totalLicenses"
            if start := _day(s.get("createdDateTime")):
                entry["start_date"] = start
            if s.get("isTrial"):
                entry["source"] = "trial"
                if ends := _day(s.get("nextLifecycleDateTime")):
                    entry["trial_ends_on"] = ends
            by_sku[sku_id].append(entry)
        for j, sku in enumerate(self.export.skus):
            sku_id = sku["skuId"].lower()
            if sku_id in self.unknown_skus or by_sku[sku_id]:
                continue
            units = sku["prepaidUnits"]
            by_sku[sku_id] = [self.subscription(f"{sku_id}-{bucket}", self.products[sku_id], units[bucket], status)
                              for bucket, status in UNITS.items() if units.get(bucket)] or [
                self.subscription(f"{sku_id}-enabled", self.products[sku_id], 0, "active")]
            for bucket in UNITS:
                self.count_paths[f"{sku_id}-{bucket}"] = f"$.subscribedSkus.value[{j}].prepaidUnits.{bucket}"
        for subs in by_sku.values():
            subs.sort(key=lambda s: (_ORDER.index(s["status"]), s.get("start_date", "")))
        return by_sku

    def disabled(self, sku_id: str, plan_id: str, sub: dict) -> str:
        plan_id = plan_id.lower()
        product = self.products[sku_id]
        if plan_id in self.plan_names and self.plan_names[plan_id] in self.catalog_plans(product):
            return self.plan_names[plan_id]
        name = self.file_plans.get(plan_id, plan_id)
        sub.setdefault("other_plans", {}).setdefault(name, plan_id)  # Graph answers it by the file's id
        self.unknown_plans.setdefault(plan_id, {"servicePlanId": plan_id, "name": name, "users": 0})["users"] += 1
        return name

    def catalog_plans(self, product: Product) -> set[str]:
        if not hasattr(product, "_plan_names"):
            product._plan_names = {m.name for m in product.microsoft_plans.all()}
        return product._plan_names

    def users(self, by_sku: dict[str, list[dict]], domain: str) -> list[dict]:
        used: Counter = Counter()
        out = []
        for _path, user in self.export.users:
            real = user["userPrincipalName"].lower()
            local, _at, real_domain = real.rpartition("@")
            upn = anonymize.upn(real, domains=self.domains) if self.choices.anonymize else real
            self.domain_of(real_domain)
            entry = {"upn": upn}
            name = anonymize.display_name(real) if self.choices.anonymize else (user.get("displayName") or "").strip()
            if name:
                entry["display_name"] = name[:200]
            location = user.get("usageLocation") or ""
            if len(location) == 2 and location.isascii() and location.isalpha():
                entry["usage_location"] = location.upper()
            licenses = []
            for lic in user["assignedLicenses"]:
                sku_id = lic["skuId"].lower()
                if sku_id in self.unknown_skus:
                    self.unknown_skus[sku_id]["users"] += 1
                    continue
                subs = by_sku[sku_id]
                sub = next((s for s in subs if used[s["key"]] < s["licenses"]), subs[0])
                used[sub["key"]] += 1
                off = sorted({self.disabled(sku_id, p, sub) for p in lic["disabledPlans"]})
                licenses.append({"subscription": sub["key"], **({"disabled_plans": off} if off else {})})
            if licenses:
                entry["licenses"] = licenses
            out.append(entry)
        return out

    def tenant(self) -> Converted:
        org, c = self.export.organization, self.choices
        verified = org["verifiedDomains"]
        primary = next((d for d in verified if d.get("isDefault")), verified[0])["name"].lower()
        for d in verified:
            self.domain_of(d["name"])
        domain = self.domain_of(primary)
        by_sku = self.subscriptions()
        users = self.users(by_sku, domain)
        subs = [s for subs in by_sku.values() for s in subs]
        for s in subs:
            if "other_plans" in s:
                s["other_plans"] = [{"name": name, "id": plan_id} for name, plan_id in sorted(s["other_plans"].items())]
        admin, password = c.admin or f"admin@{domain}", secrets.token_urlsafe(12)
        scenario = {
            "name": anonymize.organization(org["displayName"]) if c.anonymize else org["displayName"][:200],
            "domain": domain, "kind": c.kind, "agreement": c.agreement,
            "admins": [{"username": admin, "password": password, "roles": ["global_admin"]}],
            "subscriptions": subs, "users": users,
        }
        others = sorted({d for d in self.domains.values() if d != domain})
        if others:
            scenario["other_domains"] = others
        if c.agreement == Tenant.Agreement.MCA:
            scenario["billing_profiles"] = [{"key": "main", "name": f"{scenario['name']} billing"[:200],
                                             "payment": c.payment}]
        elif c.payment == PaymentKind.CARD:
            scenario["payment_methods"] = [{"key": "card", "kind": "card", "last4": "0000", "default": True}]
        for s in subs:
            s["payment"] = c.payment
        return Converted(
            scenario=scenario, domain=domain, admin=admin, password=password,
            unknown_skus=sorted(self.unknown_skus.values(), key=lambda s: s["skuPartNumber"]),
            unknown_plans=sorted(self.unknown_plans.values(), key=lambda p: p["name"]),
            assumed=[("agreement", c.agreement), ("kind", c.kind), ("payment", c.payment)]
            + [(f"{s['sku']} {s['key']}", f"{s['term']} {s['billing_frequency']}") for s in subs],
            user_paths=[path for path, _user in self.export.users], count_paths=self.count_paths)


def export_convert(export: Export, choices: Choices) -> Converted:
    return _Converter(export, choices).tenant()
