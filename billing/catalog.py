"""The catalog shipped with the project (``catalog.json``, and Microsoft's service plans of each product in
``microsoft-service-plans.tsv``) and the offer price rules.

Loaded by a data migration; ``catalog_sync`` takes the models to use so the migration
can pass its historical models.
"""

import csv
import json
from decimal import Decimal
from pathlib import Path

from billing.models.catalog import BillingFrequency, Term
from billing.money import money

CATALOG_FILE = Path(__file__).with_name("catalog.json")
# Microsoft's licensing reference ("Product names and service plan identifiers for licensing"), copied from
# shared/catalog/: a line per (skuPartNumber, service plan), in the reference's order.
SERVICE_PLANS_FILE = Path(__file__).with_name("microsoft-service-plans.tsv")
P1Y_MONTHLY_SURCHARGE = Decimal("1.05")


def catalog_data() -> dict:
    return json.loads(CATALOG_FILE.read_text())


def microsoft_plans() -> dict[str, list[dict]]:
    """skuPartNumber → Microsoft's service plans of that product (``name``, ``service_plan_id``,
    ``friendly_name``), in the reference's order."""
    plans: dict[str, list[dict]] = {}
    with SERVICE_PLANS_FILE.open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            plans.setdefault(row["sku_part_number"], []).append({
                "name": row["service_plan_name"], "service_plan_id": row["service_plan_id"],
                "friendly_name": row["friendly_name"]})
    return plans


def offer_price(*, annual: Decimal, monthly: Decimal, term: str, billing_frequency: str) -> Decimal:
    """Price per user per month of an offer (CATALOG.md "Offers").

    P1M is the monthly-commitment price; P1Y paid monthly is the annual price plus 5 %
    rounded to cents; P1Y and P3Y paid annually are the annual price.
    """
    if term == Term.P1M:
        if billing_frequency != BillingFrequency.MONTHLY:
            raise ValueError("a monthly commitment is billed monthly")
        return money(monthly)
    if term == Term.P1Y and billing_frequency == BillingFrequency.MONTHLY:
        return money(Decimal(annual) * P1Y_MONTHLY_SURCHARGE)
    if term in (Term.P1Y, Term.P3Y) and billing_frequency == BillingFrequency.ANNUAL:
        return money(annual)
    raise ValueError(f"no offer for {term} billed {billing_frequency}")


def catalog_sync(*, ServicePlan, Product, Offer, AddOnProduct, MicrosoftServicePlan=None) -> None:  # noqa: N803
    """Create or update every catalog row from ``catalog.json`` and the reference's service plans: each
    product's ``service_plans`` are the catalog's plans among its Microsoft plans (a plan counts as the
    catalog's plan of the same code). ``MicrosoftServicePlan`` None: a migration from before the model
    existed (the catalog's plans only)."""
    data = catalog_data()
    plans = {}
    for sp in data["service_plans"]:
        defaults = {k: sp[k] for k in ("name", "service", "level", "data_related")}
        if MicrosoftServicePlan is not None:  # the same migration added ``includes``
            defaults["includes"] = sp.get("includes", [])
        plans[sp["code"]], _ = ServicePlan.objects.update_or_create(code=sp["code"], defaults=defaults)
    ServicePlan.objects.exclude(code__in=plans).delete()
    reference = microsoft_plans()
    microsoft = {}
    if MicrosoftServicePlan is not None:
        for rows in reference.values():
            for row in rows:
                if row["name"] not in microsoft:
                    microsoft[row["name"]], _ = MicrosoftServicePlan.objects.update_or_create(
                        name=row["name"], defaults={"service_plan_id": row["service_plan_id"],
                                                    "friendly_name": row["friendly_name"],
                                                    "plan": plans.get(row["name"])})
    for p in data["products"]:
        product, _ = Product.objects.update_or_create(
            sku=p["sku"],
            defaults={
                "sku_id": p["sku_id"], "name": p["name"], "family": p["family"],
                "annual_price": Decimal(p["annual"]), "monthly_price": Decimal(p["monthly"]),
                "max_licenses": p["max_licenses"], "price_is_simulated": p["simulated"],
            },
        )
        names = [row["name"] for row in reference[p["sku"]]]
        product.service_plans.set([plans[name] for name in names if name in plans])
        if MicrosoftServicePlan is not None:
            product.microsoft_plans.set([microsoft[name] for name in names])
        for o in data["offers"]:
            Offer.objects.update_or_create(
                product=product, term=o["term"], billing_frequency=o["billing_frequency"],
                defaults={"price": offer_price(
                    annual=Decimal(p["annual"]), monthly=Decimal(p["monthly"]), **o)},
            )
    for a in data["addons"]:
        AddOnProduct.objects.update_or_create(
            code=a["code"], defaults={"name": a["name"], "blocks_plan_change": a["blocks_plan_change"]},
        )
