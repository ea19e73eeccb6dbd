"""The catalog of CATALOG.md ships with the project and `migrate` loads it."""

from decimal import Decimal

import pytest

from billing.catalog import catalog_data, offer_price
from billing.models import AddOnProduct, MicrosoftServicePlan, Offer, Product, ServicePlan
from billing.money import money

pytestmark = pytest.mark.django_db


def test_migrate_loads_every_product_service_plan_offer_and_addon():
    assert ServicePlan.objects.count() == 15
    assert Product.objects.count() == 11
    assert Offer.objects.count() == 11 * 4
    assert set(AddOnProduct.objects.values_list("code", "blocks_plan_change")) == {
        ("AUDIO_CONFERENCING", True), ("EXCHANGE_ARCHIVING_ADDON", True), ("EXTRA_FILE_STORAGE", False),
    }


@pytest.mark.parametrize("product", Product.objects.none() or [p["sku"] for p in catalog_data()["products"]])
def test_offer_prices_follow_the_catalog_rules(product):
    p = Product.objects.get(sku=product)
    prices = {(o.term, o.billing_frequency): o.price for o in p.offers.all()}
    # P1Y billed monthly = annual commitment price + 5 %, rounded to cents.
    assert prices["P1Y", "monthly"] == (p.annual_price * Decimal("1.05")).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    # P1M = the monthly-commitment price, which is the annual price + 20 %.
    assert prices["P1M", "monthly"] == p.monthly_price == money(p.annual_price * Decimal("1.2"))
    assert prices["P1Y", "annual"] == prices["P3Y", "annual"] == p.annual_price


def test_known_prices_to_the_cent():
    def price(sku, term, freq):
        return Offer.objects.get(product__sku=sku, term=term, billing_frequency=freq).price

    assert price("O365_BUSINESS_PREMIUM", "P1Y", "monthly") == Decimal("13.13")  # 12.50 × 1.05 = 13.125
    assert price("SPB", "P1Y", "monthly") == Decimal("23.10")
    assert price("O365_BUSINESS_ESSENTIALS", "P1M", "monthly") == Decimal("7.20")
    assert price("ENTERPRISEPACK", "P3Y", "annual") == Decimal("23.00")
    assert price("O365_BUSINESS", "P1Y", "monthly") == Decimal("8.66")  # 8.6625 rounds half up


def test_offer_price_refuses_an_offer_that_does_not_exist():
    with pytest.raises(ValueError):
        offer_price(annual=Decimal("10"), monthly=Decimal("12"), term="P1M", billing_frequency="annual")
    with pytest.raises(ValueError):
        offer_price(annual=Decimal("10"), monthly=Decimal("12"), term="P3Y", billing_frequency="monthly")


def test_products_hold_their_service_plans():
    """The catalog's service plans of each product are those Microsoft's licensing reference lists for it
    (shared/catalog/README.md: where it differs from CATALOG.md's simplified lists, it wins)."""
    def plans(sku):
        return set(Product.objects.get(sku=sku).service_plans.values_list("code", flat=True))

    # No ONEDRIVESTANDARD: OneDrive comes with SHAREPOINTSTANDARD.
    basic = {"EXCHANGE_S_STANDARD", "SHAREPOINTSTANDARD", "YAMMER_ENTERPRISE", "TEAMS1", "SHAREPOINTWAC"}
    assert plans("O365_BUSINESS_ESSENTIALS") == basic
    assert plans("O365_BUSINESS_PREMIUM") == basic | {"OFFICE_BUSINESS"}
    assert plans("SPB") == basic | {"OFFICE_BUSINESS", "EXCHANGE_S_ARCHIVE_ADDON", "INTUNE_A", "AAD_PREMIUM", "MDE_SMB"}
    assert plans("O365_BUSINESS") == {"ONEDRIVESTANDARD", "OFFICE_BUSINESS", "SHAREPOINTWAC"}
    # Archiving is part of EXCHANGE_S_ENTERPRISE.
    assert plans("ENTERPRISEPACK") == {"EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "YAMMER_ENTERPRISE", "TEAMS1",
                                       "SHAREPOINTWAC", "OFFICESUBSCRIPTION"}
    assert plans("ENTERPRISEPREMIUM") == plans("ENTERPRISEPACK")
    assert plans("SPE_E3") == plans("ENTERPRISEPACK") | {"INTUNE_A", "AAD_PREMIUM"}
    assert plans("SPE_E5") == plans("SPE_E3") | {"AAD_PREMIUM_P2"}  # WINDEFATP counts as no service of ours
    assert plans("EXCHANGEENTERPRISE") == {"EXCHANGE_S_ENTERPRISE"}
    assert Product.objects.get(sku="SPB").max_licenses == 300
    assert Product.objects.get(sku="ENTERPRISEPACK").max_licenses is None


def test_products_hold_every_service_plan_of_microsofts_reference():
    """Graph's servicePlans: every plan the reference lists for the SKU, with its real id; each counts as at
    most one of the catalog's plans, the one of its name."""
    def microsoft(sku):
        return {m.name: str(m.service_plan_id) for m in Product.objects.get(sku=sku).microsoft_plans.all()}

    assert MicrosoftServicePlan.objects.count() == 129
    assert len(microsoft("O365_BUSINESS_ESSENTIALS")) == 14
    assert len(microsoft("O365_BUSINESS_PREMIUM")) == 37
    assert len(microsoft("SPB")) == 55
    assert len(microsoft("SPE_E5")) == 86
    assert microsoft("O365_BUSINESS") == {
        "FORMS_PLAN_E1": "159f4cd6-e380-449f-a816-af1a9ef76344", "OFFICE_BUSINESS": "094e7854-93fc-4d55-b2c0-3ab5369ebdc1",
        "ONEDRIVESTANDARD": "13696edf-5a08-49f6-8134-03083ed8ba30", "SHAREPOINTWAC": "e95bec33-7c88-4a70-8e19-b10bd9d0c014",
        "SWAY": "a23b959c-7ce8-4e57-9140-b90eb88a9e97"}
    assert microsoft("SPE_E5")["WINDEFATP"] == "871d91ec-ec1a-452b-a83f-bd76c7d770ef"
    for product in Product.objects.prefetch_related("service_plans", "microsoft_plans__plan"):
        assert set(product.service_plans.all()) == {m.plan for m in product.microsoft_plans.all() if m.plan}
    assert set(MicrosoftServicePlan.objects.exclude(plan=None).values_list("name", "plan__code")) == {
        (code, code) for code in ServicePlan.objects.values_list("code", flat=True)}


def test_data_related_services_are_the_articles():
    data = set(ServicePlan.objects.filter(data_related=True).values_list("service", flat=True))
    assert data == {"exchange", "exchange_archiving", "sharepoint", "onedrive", "viva_engage"}


def test_products_api_lists_the_catalog(api, django_user_model):
    api.force_authenticate(django_user_model.objects.create(username="reader"))
    response = api.get("/api/v1/products/", {"page_size": 100})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 11
    standard = next(p for p in body["results"] if p["sku"] == "O365_BUSINESS_PREMIUM")
    assert standard["name"] == "Microsoft 365 Business Standard"
    assert standard["sku_id"] == "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
    assert {"term": "P1Y", "billing_frequency": "monthly", "price": "13.13"} in standard["offers"]
    assert {"name": "EXCHANGE_S_STANDARD", "display_name": "Exchange Online (Plan 1)",
            "service": "exchange", "level": 1, "data_related": True} in standard["service_plans"]
    one = api.get("/api/v1/products/SPB/").json()
    assert one["name"] == "Microsoft 365 Business Premium"


def test_each_service_has_one_name_the_catalogs_in_every_language():
    from django.utils import translation

    from portal.models import Service

    names = {s["service"]: s["name"] for s in catalog_data()["services"]}
    assert names == {service.value: service.label for service in Service}
    for plan in catalog_data()["service_plans"]:  # a plan is named after its service
        assert plan["name"].startswith(names[plan["service"]]), plan
    with translation.override("sv"):
        assert {service.value: str(service.label) for service in Service} == names
