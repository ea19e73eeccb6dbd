"""The MCA pane offers only what the catalog sells: a billing frequency not sold for the chosen length (1 month
billed annually, 3 years billed monthly) is disabled, with the reason beside it, before anyone chooses it."""

import re
from datetime import date

import pytest

from tests.factories import BillingProfileFactory, LicenseFactory, SubscriptionFactory, admin_of, product
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def pane(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    LicenseFactory(subscription=sub)
    client.force_login(admin_of(profile.tenant))
    return f"/billing/products/{sub.pk}/change/"


def _frequencies(html: str) -> dict[str, str]:
    """Each billing frequency option: the terms it is sold with and whether it is disabled."""
    select = re.search(r'<select id="billing_frequency".*?</select>', html, re.S).group(0)
    return {value: (terms, bool(off)) for value, terms, off in
            re.findall(r'<option value="(\w+)" data-terms="([\w ]+)"( disabled)?', select)}


def _hints(html: str) -> dict[str, tuple[str, bool]]:
    return {term: (text, bool(hidden)) for term, hidden, text in
            re.findall(r'<p class="field-hint" data-term="(\w+)"( hidden)?>([^<]*)</p>', html)}


def test_one_month_billed_annually_is_disabled_with_its_reason(client, pane):
    html = client.get(pane, {"target_sku": "SPB", "term": "P1M", "billing_frequency": "monthly"}).content.decode()
    assert _frequencies(html) == {"monthly": ("P1M P1Y", False), "annual": ("P1Y P3Y", True)}
    assert _hints(html) == {"P1M": ("1 month is billed monthly only.", False),
                            "P3Y": ("3 years is billed annually only.", True)}
    yearly = client.get(pane, {"target_sku": "SPB", "term": "P1Y", "billing_frequency": "annual"}).content.decode()
    assert _frequencies(yearly) == {"monthly": ("P1M P1Y", False), "annual": ("P1Y P3Y", False)}
    assert all(hidden for _text, hidden in _hints(yearly).values())


def test_the_reason_in_swedish(client, pane):
    text = page_text(client.get(pane, {"target_sku": "SPB", "term": "P3Y", "billing_frequency": "annual"},
                                HTTP_ACCEPT_LANGUAGE="sv"))
    assert "3 år faktureras bara årsvis." in text
