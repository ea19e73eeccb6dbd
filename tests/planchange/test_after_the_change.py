"""What the subscription and completion pages say about a change's aftermath: a change scheduled for the
renewal replaces "Renews on … with the same offer"; after a change to Business Premium, the article's "Next
steps" (the Business Premium library, to set up the new security features)."""

from datetime import date

import pytest

from planchange import workflow
from planchange.models import PlanChange
from planchange.services import plan_change_request
from tests.factories import BillingProfileFactory, LicenseFactory, SubscriptionFactory, admin_of, mosa_standard, product
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

GUIDE = "https://learn.microsoft.com/microsoft-365/business-premium/"


def test_a_change_scheduled_for_the_renewal_is_what_the_renewal_does(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    LicenseFactory(subscription=sub)
    client.force_login(admin_of(profile.tenant))
    assert "Renews on 2026-10-01 with the same offer." in page_text(client.get(f"/billing/products/{sub.pk}/"))
    client.post(f"/billing/products/{sub.pk}/change/", {"target_sku": "SPB", "licenses": "12", "schedule": "renewal",
                                                        "term": "P1Y", "billing_frequency": "annual"})
    assert PlanChange.objects.get(subscription=sub).status == "scheduled"
    text = page_text(client.get(f"/billing/products/{sub.pk}/"))
    assert "with the same offer" not in text
    assert ("On 2026-10-01, instead of renewing, it changes to Microsoft 365 Business Premium: the change scheduled "
            "for its renewal.") in text
    swedish = page_text(client.get(f"/billing/products/{sub.pk}/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("Den 2026-10-01 förnyas den inte, utan ändras till Microsoft 365 Business Premium: ändringen som är "
            "schemalagd till förnyelsen.") in swedish


def test_after_a_change_to_business_premium_the_pages_point_to_its_setup_guidance(client, at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard(users=3)
    admin = admin_of(tenant)
    client.force_login(admin)
    assert "Next steps" not in page_text(client.get(f"/billing/products/{std.pk}/"))  # Business Standard, as it was
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    for url in (f"/billing/changes/{change.pk}/", f"/billing/changes/{change.pk}/progress/",
                f"/billing/products/{change.new_subscription_id}/"):
        page = client.get(url)
        assert ("Next steps: you upgraded to Microsoft 365 Business Premium. Use the steps in the Business Premium "
                "library to set up your new security features.") in page_text(page), url
        assert f'href="{GUIDE}"' in page.content.decode(), url
    swedish = page_text(client.get(f"/billing/products/{change.new_subscription_id}/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("Nästa steg: du har uppgraderat till Microsoft 365 Business Premium. Använd stegen i Business "
            "Premium-biblioteket för att konfigurera dina nya säkerhetsfunktioner.") in swedish
