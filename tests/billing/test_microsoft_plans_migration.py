"""billing 0017 and licensing 0004 on a database from before them: the catalog's plans become Microsoft's
reference (EXCHANGE_S_ARCHIVE is Business Premium's EXCHANGE_S_ARCHIVE_ADDON), every product gets its Microsoft
service plans, and each license's turned-off plans become names of its product's plans (one the product no
longer lists is dropped)."""

from datetime import date

import pytest

from billing.models import MicrosoftServicePlan, Product
from licensing.models import DirectoryUser, LicenseAssignment
from tests.helpers import database_at

BEFORE = [("billing", "0016_invoice_indexes_for_the_day_loop"), ("licensing", "0003_license_move_batches")]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_bring_an_old_database_to_the_reference():
    with database_at(BEFORE) as old:
        plans = old.get_model("billing", "ServicePlan").objects
        plans.filter(code="EXCHANGE_S_ARCHIVE_ADDON").update(code="EXCHANGE_S_ARCHIVE")  # as the old catalog had it
        products = old.get_model("billing", "Product").objects
        tenant = old.get_model("portal", "Tenant").objects.create(name="Old", domain="old.example")
        rows = old.get_model("billing", "Subscription").objects
        fields = {"tenant": tenant, "licenses": 5, "term": "P1Y", "billing_frequency": "monthly",
                  "start_date": date(2026, 1, 1)}
        premium = rows.create(product=products.get(sku="SPB"), **fields)
        basic = rows.create(product=products.get(sku="O365_BUSINESS_ESSENTIALS"), **fields)
        user = old.get_model("licensing", "DirectoryUser").objects.create(tenant=tenant, upn="ann@old.example",
                                                                          display_name="Ann")
        licenses = old.get_model("licensing", "LicenseAssignment").objects
        licenses.create(user=user, subscription=premium, disabled_plans=["EXCHANGE_S_ARCHIVE", "YAMMER_ENTERPRISE"])
        licenses.create(user=user, subscription=basic, disabled_plans=["ONEDRIVESTANDARD", "TEAMS1"])
    got = dict(LicenseAssignment.objects.values_list("subscription__product__sku", "disabled_plans"))
    assert got == {"SPB": ["EXCHANGE_S_ARCHIVE_ADDON", "YAMMER_ENTERPRISE"], "O365_BUSINESS_ESSENTIALS": ["TEAMS1"]}
    assert DirectoryUser.objects.get().usage_location == ""
    assert MicrosoftServicePlan.objects.count() == 129
    assert set(Product.objects.get(sku="SPB").service_plans.values_list("code", flat=True)) >= {
        "EXCHANGE_S_ARCHIVE_ADDON", "MDE_SMB"}
    assert not Product.objects.filter(service_plans__code="EXCHANGE_S_ARCHIVE").exists()
