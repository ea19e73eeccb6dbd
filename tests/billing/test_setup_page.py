"""The "not fully set up" blocker's fix goes to a page that shows the subscription's set-up and when it
ends (Service health says nothing about set-up): Billing > Your products > the subscription > Set-up."""

from datetime import UTC, datetime

import pytest

from billing.lifecycle import subscription_provisioning_finish
from billing.models import Subscription
from tests.factories import SubscriptionFactory, TenantFactory, admin_of
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def being_set_up(client, at_date, settings):
    settings.PORTAL_PROVISIONING_MINUTES = 5
    at_date("2026-06-15")
    tenant = TenantFactory(domain="contoso.example")
    sub = SubscriptionFactory(tenant=tenant, licenses=3, provisioning=Subscription.Provisioning.PROVISIONING,
                              provisioning_until=datetime(2026, 6, 15, 12, 5, tzinfo=UTC))
    client.force_login(admin_of(tenant))
    return tenant, sub


def test_the_blockers_fix_link_shows_the_set_up_and_when_it_ends(client, being_set_up):
    tenant, sub = being_set_up
    upgrades = client.get(f"/billing/products/{sub.pk}/upgrades/").content.decode()
    url = f"/billing/products/{sub.pk}/setup/"
    assert f'href="{url}"' in upgrades and "See the set-up" in upgrades
    page = client.get(url)
    assert page.status_code == 200
    text = page_text(page)
    assert "Billing › Your products › Microsoft 365 Business Standard › Set-up" in text
    assert ("Microsoft 365 Business Standard is being set up. Set-up takes 5 minutes: it ends by 2026-06-15 12:05 UTC "
            "(simulation time), or sooner when support finishes it. You can change plans once it is set up.") in text
    subscription_provisioning_finish(subscription_id=sub.pk, actor="support")
    assert "Microsoft 365 Business Standard is fully set up." in page_text(client.get(url))


def test_the_page_in_swedish_and_another_tenants_subscription_is_404(client, being_set_up):
    tenant, sub = being_set_up
    text = page_text(client.get(f"/billing/products/{sub.pk}/setup/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("Microsoft 365 Business Standard håller på att konfigureras. Konfigurationen tar 5 minuter: den är klar "
            "senast 2026-06-15 12:05 UTC (simuleringstid), eller tidigare om supporten slutför den. Du kan ändra "
            "plan när den är konfigurerad.") in text
    other = SubscriptionFactory(tenant=TenantFactory(domain="fabrikam.example"))
    assert client.get(f"/billing/products/{other.pk}/setup/").status_code == 404
