"""Purchase services and the manual path's checklist in Chromium: the total follows the choices as
they are typed, Buy buys what the total shows, and the checklist follows the pair chosen."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Invoice, Subscription
from simulation.scenarios.loader import scenario_load_file
from tests.browser.test_admin_center import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_buy_business_premium_then_follow_the_checklist(browser_page, shots):
    scenario_load_file("scenarios/demo.json")  # Contoso on 2026-06-15: Business Standard, 22 of 25 assigned
    page = browser_page
    login(page, "admin@contoso.com", "Contoso-demo-2026")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Billing", exact=True).click()
    page.get_by_role("link", name="Purchase services").first.click()
    expect(page.get_by_role("heading", name="Purchase services", exact=True)).to_be_visible()
    shots(page, "catalog")
    page.locator("tr[data-sku=SPB]").get_by_role("link", name="Buy").click()
    expect(page.get_by_role("heading", name="Buy Microsoft 365 Business Premium")).to_be_visible()
    expect(page.get_by_test_id("order-total-amount")).to_have_text("USD 23.10")
    page.get_by_label("Number of licenses").fill("22")  # the total follows, without a reload
    expect(page.get_by_test_id("order-total-amount")).to_have_text("USD 508.20")
    page.get_by_label("Subscription length").select_option("P1M")
    expect(page.get_by_test_id("order-total-amount")).to_have_text("USD 580.80")  # 26.40 × 22
    shots(page, "order")
    page.get_by_label("Card ending in 4242").check()
    page.get_by_role("button", name="Buy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/billing/products/\d+/$"))
    spb = Subscription.objects.get(product__sku="SPB", tenant__domain="contoso.com")
    invoice = Invoice.objects.get(lines__subscription=spb)
    expect(page.get_by_role("status").first).to_have_text(
        f"Microsoft 365 Business Premium is being set up; it is ready in a few minutes. Its first billing period, "
        f"USD 580.80, is on invoice {invoice.number} of 2026-06-15.")
    assert (spb.licenses, spb.term, spb.billing_frequency, invoice.total) == (22, "P1M", "monthly", invoice.paid)
    shots(page, "bought")

    std = Subscription.objects.get(product__sku="O365_BUSINESS_PREMIUM", tenant__domain="contoso.com")
    page.goto(f"/billing/change-plans-manually/?from={std.pk}")
    page.get_by_label("Move users to").select_option(str(spb.pk))
    page.get_by_role("button", name="Show where I am").click()
    expect(page.locator("li[data-step=buy] [data-state]")).to_have_text("Done")
    expect(page.get_by_test_id("step-check")).to_have_text(
        "22 users to move, 22 unassigned licenses. Microsoft 365 Business Premium is still being set up; check again "
        "in a few minutes.")
    expect(page.get_by_test_id("step-move")).to_have_text(
        "22 users still have licenses of Microsoft 365 Business Standard.")
    shots(page, "checklist")
    page.locator("li[data-step=move]").get_by_role("link", name="Users > Active users").click()
    expect(page).to_have_url(re.compile(rf"/users/\?subscription={std.pk}$"))
