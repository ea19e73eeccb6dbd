"""Read-only means read-only: a role that may not order sees Checkout and the Change plan pane
with their numbers but no usable Place order / Change plan (they say why), and its visits write
nothing. For roles that may order, a preview stores what the order needs (the quote) but the
audit trail records the order that used it, not every view or keystroke."""

from datetime import date

import pytest

from planchange import workflow
from planchange.models import PlanChange, Quote
from portal.models import Event
from tests.factories import BillingProfileFactory, LicenseFactory, SubscriptionFactory, admin_of, mosa_standard, product
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def written():
    return Quote.objects.count(), Event.objects.count(), PlanChange.objects.count()


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=3)
    return tenant, std


@pytest.fixture
def fabrikam(at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    LicenseFactory(subscription=sub)
    return profile.tenant, sub


@pytest.mark.parametrize("role", ["global_reader", "service_support_admin", "license_admin", "user_admin"])
def test_checkout_for_a_role_that_may_not_order_shows_the_quote_disables_place_order_and_writes_nothing(
        client, contoso, role):
    tenant, std = contoso
    client.force_login(admin_of(tenant, role))
    before = written()
    page = client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/")
    html, text = page.content.decode(), page_text(page)
    assert "Total USD 413.37" in text  # the worked example's numbers, to look at
    assert '<button type="submit" class="primary" disabled aria-describedby="order-role">Place order</button>' in html
    assert ("Your admin role can look at this order but not place it. A Global admin or Billing admin can."
            in text)
    assert 'name="quote_id"' not in html
    assert written() == before
    assert client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/", {"payment_method": "1"}).status_code \
        == 403
    assert written() == before


def test_the_pane_for_a_global_reader_in_swedish_quotes_every_keystroke_and_writes_nothing(client, fabrikam):
    tenant, sub = fabrikam
    client.force_login(admin_of(tenant, "global_reader"))
    before = written()
    url = f"/billing/products/{sub.pk}/change/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv")
    assert ("Din administratörsroll kan se den här ändringen men inte göra den. En global administratör eller "
            "faktureringsadministratör kan.") in page_text(page)
    assert 'disabled aria-describedby="order-role">Ändra plan</button>' in page.content.decode()
    for licenses in ("12", "13", "14", "15"):
        fragment = client.get(url, {"fragment": "quote", "target_sku": "SPB", "licenses": licenses})
        assert "USD" in page_text(fragment)
    assert written() == before


def test_an_admin_who_orders_leaves_one_event_naming_the_quote_used_not_one_per_keystroke(client, fabrikam):
    tenant, sub = fabrikam
    client.force_login(admin_of(tenant, "billing_admin"))
    url = f"/billing/products/{sub.pk}/change/"
    events = Event.objects.count()
    client.get(url)
    for licenses in ("12", "13", "14", "15"):
        client.get(url, {"fragment": "quote", "target_sku": "SPB", "licenses": licenses})
    assert Event.objects.count() == events  # views and keystrokes are not actions
    quote = Quote.objects.latest("pk")
    assert quote.licenses == 15
    client.post(url, {"target_sku": "SPB", "licenses": "15", "schedule": "now", "term": "P1Y",
                      "billing_frequency": "monthly", "quote_id": str(quote.pk)})
    change = PlanChange.objects.get()
    (requested,) = Event.objects.filter(verb="plan_change.requested")
    assert requested.data["quote"] == {"id": quote.pk, "credit": str(quote.credit), "charge": str(quote.charge),
                                       "total": str(quote.total)}
    assert Event.objects.filter(verb="plan_change.quoted").count() == 0
    assert workflow.run(change.pk) == "completed"
