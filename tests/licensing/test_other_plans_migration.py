"""licensing 0005 on a database from before it: a license that has a plan off which its product's Microsoft plans
don't list (an import's, a scenario's other_plans) gets that plan recorded with a servicePlanId, so Graph names it
(its GUID when the plan was kept by one, else the id licensing.plans makes from its name)."""

from datetime import date
from uuid import UUID

import pytest

from licensing.models import OtherServicePlan
from licensing.plans import other_plan_id
from tests.helpers import database_at

BEFORE = [("licensing", "0004_usage_location")]
NEW_PLAN = "0f0e0d0c-0b0a-4999-8888-777766665555"


@pytest.mark.django_db(transaction=True)
def test_plans_only_licenses_named_get_their_ids():
    with database_at(BEFORE) as old:
        tenant = old.get_model("portal", "Tenant").objects.create(name="Old", domain="old.example")
        basic = old.get_model("billing", "Subscription").objects.create(
            tenant=tenant, product=old.get_model("billing", "Product").objects.get(sku="O365_BUSINESS_ESSENTIALS"),
            licenses=5, term="P1Y", billing_frequency="monthly", start_date=date(2026, 1, 1))
        users = old.get_model("licensing", "DirectoryUser").objects
        licenses = old.get_model("licensing", "LicenseAssignment").objects
        for n, off in enumerate([["NEW_PLAN_2026", "YAMMER_ENTERPRISE"], ["NEW_PLAN_2026", NEW_PLAN], []]):
            user = users.create(tenant=tenant, upn=f"u{n}@old.example", display_name=f"U{n}")
            licenses.create(user=user, subscription=basic, disabled_plans=off)
    got = sorted(OtherServicePlan.objects.values_list("tenant__domain", "product__sku", "name", "service_plan_id"))
    assert got == [("old.example", "O365_BUSINESS_ESSENTIALS", NEW_PLAN, UUID(NEW_PLAN)),
                   ("old.example", "O365_BUSINESS_ESSENTIALS", "NEW_PLAN_2026", other_plan_id("NEW_PLAN_2026"))]
    # the same name is the same id in every database (an export of it and its import agree)
    assert other_plan_id("NEW_PLAN_2026") == UUID("7f258e9d-36bd-5db8-ad4a-6ba8998a0689")
