"""The catalog shipped with the project (``catalog.json``) and the offer price rules.

Loaded by a data migration; ``catalog_sync`` takes the models to use so the migration
can pass its historical models.
"""

import json
from decimal import Decimal
from pathlib import Path

from billing.models.catalog import BillingFrequency, Term
from billing.money import money

CATALOG_FILE = Path(__file__).with_name("catalog.json")
P1Y_MONTHLY_SURCHARGE = Decimal("1.05")


def catalog_data() -> dict:
    return json.loads(CATALOG_FILE.read_text())


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


def catalog_sync(*, ServicePlan, Product, Offer, AddOnProduct) -> None:  # noqa: N803
    """Create or update every catalog row from ``catalog.json``."""
    data = catalog_data()
    plans = {}
    for sp in data["service_plans"]:
        plans[sp["code"]], _ = ServicePlan.objects.update_or_create(
            code=sp["code"],
            defaults={k: sp[k] for k in ("name", "service", "level", "data_related")},
        )
    for p in data["products"]:
        product, _ = Product.objects.update_or_create(
            sku=p["sku"],
            defaults={
                "sku_id": p["sku_id"], "name": p["name"], "family": p["family"],
                "annual_price": Decimal(p["annual"]), "monthly_price": Decimal(p["monthly"]),
                "max_licenses": p["max_licenses"], "price_is_simulated": p["simulated"],
            },
        )
        product.service_plans.set([plans[c] for c in p["plans"]])
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
