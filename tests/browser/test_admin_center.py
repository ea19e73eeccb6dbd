"""The admin center in Chromium, as an admin clicks through it (issue 5's paths)."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Subscription
from planchange.models import PlanChange
from simulation.scenarios.loader import scenario_load_file
from tests.worker import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def login(page, username, password):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form:has(#id_password) button[type=submit]")  # not the language menu's button
    page.wait_for_url(re.compile(r".*/(support/)?$"))


def mosa_path(page, shots, labels):
    """Your products → details → View upgrades → Available upgrades → Upgrade → Checkout → Place order."""
    page.get_by_role("navigation", name=labels["nav"]).get_by_role("link", name=labels["billing"], exact=True).click()
    expect(page.get_by_role("heading", name=labels["your_products"], exact=True)).to_be_visible()
    shots(page, "your-products")
    page.get_by_role("link", name="Microsoft 365 Business Standard").click()
    expect(page.get_by_role("heading", name=labels["product_details"])).to_be_visible()
    shots(page, "subscription")
    page.get_by_role("link", name=labels["view_upgrades"]).click()
    expect(page.get_by_role("heading", name=labels["available_upgrades"], exact=True)).to_be_visible()
    shots(page, "available-upgrades")
    # One card per product, one Upgrade each; Checkout starts with the current term and billing frequency.
    page.locator("article[data-sku=SPB]").get_by_role("link", name=labels["upgrade"]).click()
    expect(page.get_by_role("heading", name=labels["checkout"], exact=True)).to_be_visible()
    for heading in labels["checkout_sections"]:
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_test_id("quote-total")).to_have_text(labels["total"])  # 577.50 − 175.07 on 2026-06-15
    shots(page, "checkout")
    page.get_by_label(labels["card_4242"]).check()
    page.get_by_role("button", name=labels["place_order"]).click()
    expect(page).to_have_url(re.compile(r"/billing/changes/\d+/$"))
    shots(page, "progress")
    # The steps update without reloading the page, until Completed.
    expect(page.get_by_test_id("change-status")).to_have_text(labels["completed"], timeout=60000)
    shots(page, "completed")
    page.get_by_role("link", name=f"{labels['go_to']} Microsoft 365 Business Premium").click()
    page.get_by_role("link", name=labels["your_products"], exact=True).first.click()
    premium = page.locator("tr", has=page.get_by_role("link", name="Microsoft 365 Business Premium"))
    expect(premium).to_contain_text(labels["active"])
    expect(premium).to_contain_text(labels["assigned_22"])
    standard = page.locator("tr", has=page.get_by_role("link", name="Microsoft 365 Business Standard"))
    expect(standard).to_contain_text(labels["cancelled"])
    shots(page, "new-plan-on-your-products")


ENGLISH = {
    "nav": "Main navigation", "billing": "Billing", "your_products": "Your products",
    "product_details": "Product details and upgrades", "view_upgrades": "View upgrades recommended for your org",
    "available_upgrades": "Available upgrades", "upgrade": "Upgrade", "checkout": "Checkout",
    "checkout_sections": ["Sold to", "Billed to", "Items in this order"], "card_4242": "Card ending in 4242",
    "place_order": "Place order", "completed": "Completed", "go_to": "Go to", "active": "Active",
    "cancelled": "Cancelled", "assigned_22": "22 of 25", "total": "USD 402.43",
}
SWEDISH = {
    "nav": "Huvudnavigering", "billing": "Fakturering", "your_products": "Dina produkter",
    "product_details": "Produktinformation och uppgraderingar",
    "view_upgrades": "Visa uppgraderingar som rekommenderas för din organisation",
    "available_upgrades": "Tillgängliga uppgraderingar", "upgrade": "Uppgradera", "checkout": "Checka ut",
    "checkout_sections": ["Såld till", "Fakturerad till", "Artiklar i den här beställningen"],
    "card_4242": "Kort som slutar på 4242", "place_order": "Placera beställning", "completed": "Slutförd",
    "go_to": "Gå till", "active": "Aktiv", "cancelled": "Avbruten", "assigned_22": "22 av 25",
    "total": re.compile(r"^402,43\sUS\$$"),  # as CLDR writes it in Swedish, a no-break space before US$
}


def test_mosa_path_from_login_to_completed(new_context, shots, tmp_path):
    scenario_load_file("scenarios/demo.json")
    with celery_worker(tmp_path / "worker.log", PLANCHANGE_STEP_DELAY="0.5"):
        page = new_context("en-US")
        login(page, "admin@contoso.com", "Contoso-demo-2026")
        shots(page, "home")
        mosa_path(page, shots, ENGLISH)
    assert PlanChange.objects.get().status == "completed"


def test_mosa_path_in_swedish(new_context, shots, tmp_path):
    scenario_load_file("scenarios/demo.json")
    with celery_worker(tmp_path / "worker.log", PLANCHANGE_STEP_DELAY="0.2"):
        page = new_context("sv-SE")
        login(page, "admin@contoso.com", "Contoso-demo-2026")
        mosa_path(page, shots, SWEDISH)
    # The change's invoice in Swedish, though the worker wrote it: the credit for the unused days and the
    # new plan's first period, each line in the reader's language.
    page.get_by_role("navigation", name="Huvudnavigering").get_by_role("link", name="Fakturor och betalningar").click()
    invoice = PlanChange.objects.get().invoice
    page.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_role("heading", name=f"Faktura {invoice.number}")).to_be_visible()
    credit = page.locator("tr", has_text="Kredit för 16 oanvända dagar av Microsoft 365 Business Standard (25 licenser)")
    expect(credit).to_contain_text(re.compile(r"-175,07\sUS\$"))
    charge = page.locator("tr", has_text="Microsoft 365 Business Premium (25 licenser), 2026-06-15 till 2026-07-15")
    expect(charge).to_contain_text(re.compile(r"577,50\sUS\$"))
    expect(page.locator("main")).not_to_contain_text("unused")
    shots(page, "invoice-with-credit-in-swedish")


def test_mca_path_scheduled_at_renewal_then_the_clock_advanced(new_context, shots, tmp_path):
    scenario_load_file("scenarios/demo.json")
    page = new_context("en-US")
    login(page, "admin@fabrikam.com", "Fabrikam-demo-2026")
    page.goto("/billing/products/")
    page.get_by_role("link", name="Microsoft 365 Business Premium").click()
    # Blocked by Audio Conferencing: the fix link leads to the add-on, removing it unblocks.
    expect(page.get_by_test_id("change-option-link")).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_test_id("why-panel")).to_contain_text("Your subscription has an add-on.")
    shots(page, "blocked-by-addon")
    page.get_by_role("link", name="Remove the add-on").click()
    addon = page.locator('[data-addon="AUDIO_CONFERENCING"]')
    addon.locator("summary").click()  # the confirmation opens
    addon.get_by_label("I want to remove Microsoft 365 Audio Conferencing from this subscription.").check()
    addon.get_by_role("button", name="Remove Microsoft 365 Audio Conferencing").click()
    expect(page.get_by_role("status").first).to_contain_text("The add-on was removed.")
    page.get_by_role("link", name="Change to a different subscription option").click()
    pane = page.get_by_test_id("change-pane")
    expect(pane).to_be_visible()
    pane.get_by_label("Plan").select_option(label="Microsoft 365 E3")
    pane.get_by_label("At renewal (2026-10-01)").check()
    pane.get_by_label("Billing frequency").select_option("annual")
    # The quote follows the choices: 12 licenses × 36.00 × 12 months, no credit at renewal.
    expect(pane.get_by_test_id("quote-charge")).to_have_text("USD 5,184.00")
    expect(pane.get_by_test_id("quote-credit")).to_have_text("USD 0.00")
    shots(page, "change-plan-pane")
    pane.get_by_role("button", name="Change plan").click()
    expect(page.get_by_test_id("plan-change")).to_contain_text("Scheduled for the renewal on 2026-10-01")
    # Warned in advance: the open invoice falls due before the renewal, and unpaid it would stop the change.
    warnings = page.get_by_test_id("scheduled-change-warnings")
    expect(warnings).to_contain_text("If nothing changes, this change will fail on 2026-10-01.")
    expect(warnings).to_contain_text("Invoice FAB-2026-06 (USD 277.20) is due 2026-07-01")
    shots(page, "scheduled-with-warning")
    warnings.get_by_role("link", name="Pay now").click()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_test_id("balance")).to_have_text("USD 0.00")
    page.goto("/billing/products/")
    page.get_by_role("link", name="Microsoft 365 Business Premium").click()
    expect(page.get_by_test_id("plan-change")).to_contain_text("Scheduled for the renewal on 2026-10-01")
    expect(page.get_by_test_id("scheduled-change-warnings")).to_have_count(0)

    def move_clock(to: str, *, expect_in_preview: str):
        support.get_by_label("Move the clock").select_option("to")
        support.get_by_label("Days or date").fill(to)
        support.get_by_role("button", name="Preview the move").click()
        preview = support.get_by_test_id("clock-preview")
        expect(preview).to_contain_text(expect_in_preview)
        shots(support, f"preview-to-{to}")
        preview.get_by_role("button", name=f"Move the clock to {to}").first.click()  # above the list (and below)
        expect(support.get_by_test_id("sim-date")).to_have_text(to)
        expect(support.get_by_test_id("clock-moved")).to_contain_text(expect_in_preview)

    with celery_worker(tmp_path / "worker.log", PLANCHANGE_STEP_DELAY="0.2"):
        support = new_context("en-US")
        login(support, "support@portal.local", "Support-demo-2026")
        # Support sees what the move will do before it happens: the months on the way are billed on the
        # billing profile's monthly invoices, and July's falls past due on 2026-09-01.
        move_clock("2026-09-30", expect_in_preview="USD 277.20 unpaid past its due date 2026-08-31")
        assert PlanChange.objects.get(tenant__domain="fabrikam.com").status == "scheduled"
        # The admin sees the new invoices, and the warning that the change would fail.
        page.reload()
        expect(page.get_by_test_id("scheduled-change-warnings")).to_contain_text("Your invoice has an unpaid balance.")
        shots(page, "warned-before-renewal")
        page.goto("/billing/bills/")
        for number in ("BP", "FAB-2026-06"):
            expect(page.get_by_role("link", name=re.compile(number)).first).to_be_visible()
        expect(page.locator("text=Past due")).to_have_count(1)
        shots(page, "new-invoices")
        pay = page.get_by_role("button", name=re.compile("^(Pay now|Settle balance)"))
        while pay.count():
            pay.first.click()
            page.wait_for_load_state()
        shots(page, "paid-before-renewal")
        move_clock("2026-10-01", expect_in_preview="The change scheduled for renewal completed")
        shots(support, "support-console")
        # The clock's day loop ran the change on its renewal day.
        change = PlanChange.objects.get(tenant__domain="fabrikam.com")
        page.goto(f"/billing/changes/{change.pk}/")
        expect(page.get_by_test_id("change-status")).to_have_text("Completed", timeout=60000)
        shots(page, "completed")
    change = PlanChange.objects.get(tenant__domain="fabrikam.com")
    assert (change.new_subscription.product.sku, change.new_subscription.start_date.isoformat()) == (
        "SPE_E3", "2026-10-01")


def test_a_blocked_subscription_is_fixed_through_its_fix_link(new_context, shots):
    scenario_load_file("scenarios/unpaid_balance.json")
    page = new_context("en-US")
    login(page, "admin@unpaid.example", "Training-2026")
    page.goto("/billing/products/")
    page.get_by_role("link", name="Microsoft 365 Business Standard").click()
    link = page.get_by_test_id("change-option-link")
    expect(link).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_test_id("why-panel")).to_contain_text("Your invoice has an unpaid balance.")
    shots(page, "blocked")
    page.get_by_test_id("why-panel").get_by_role("link", name="Pay now").click()
    shots(page, "invoice")
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_test_id("balance")).to_have_text("USD 0.00")
    page.go_back()
    page.go_back()
    page.reload()
    expect(page.get_by_test_id("change-option-link")).not_to_have_attribute("aria-disabled", "true")
    expect(page.get_by_test_id("why-panel")).to_have_count(0)
    shots(page, "unblocked")


def test_an_invalid_card_is_refused_beside_the_field(new_context, shots):
    scenario_load_file("scenarios/demo.json")
    page = new_context("en-US")
    login(page, "admin@contoso.com", "Contoso-demo-2026")
    sub = Subscription.objects.get(tenant__domain="contoso.com", product__sku="O365_BUSINESS_PREMIUM")
    page.goto(f"/billing/products/{sub.pk}/upgrades/SPB/checkout/")
    page.get_by_label("Add a credit or debit card").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4241")
    page.get_by_label("Expiry date (MM/YY)").fill("12/29")
    page.get_by_label("Name on card").fill("Contoso Ltd")
    page.get_by_role("button", name="Place order").click()
    error = page.get_by_test_id("card-number-error")
    expect(error).to_have_text("This card number isn't valid. Check it and try again.")
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    # The error sits right under its field.
    field_box = page.get_by_label("Card number").bounding_box()
    error_box = error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40
    shots(page, "invalid-card")
    assert PlanChange.objects.count() == 0


def test_the_lifecycle_in_swedish_expired_then_reactivated(new_context, shots):
    """Contoso's admin turns recurring billing off; support previews and moves the clock past the
    term's end; the subscription is Expired ("Har upphört") with the dates of its next stages, and
    turning recurring billing back on reactivates it, its first month invoiced at once."""
    scenario_load_file("scenarios/demo.json")
    page = new_context("sv-SE")
    login(page, "admin@contoso.com", "Contoso-demo-2026")
    page.goto("/billing/products/")
    page.get_by_role("link", name="Microsoft 365 Business Basic").click()
    page.get_by_role("button", name="Stäng av återkommande fakturering").click()
    stage = page.get_by_test_id("stage")
    expect(stage).to_contain_text("Återkommande fakturering är av: den 2026-07-10 upphör prenumerationen.")
    shots(page, "recurring-billing-off")

    support = new_context("sv-SE")
    login(support, "support@portal.local", "Support-demo-2026")
    support.get_by_label("Flytta klockan").select_option("to")
    support.get_by_label("Dagar eller datum").fill("2026-07-15")
    support.get_by_role("button", name="Förhandsgranska flytten").click()
    preview = support.get_by_test_id("clock-preview")
    expired = preview.locator("tr[data-kind=expired]")
    expect(expired).to_contain_text("2026-07-10")
    expect(expired).to_contain_text("Perioden tog slut med återkommande fakturering avstängd: har upphört.")
    shots(support, "preview")
    preview.get_by_role("button", name="Flytta klockan till 2026-07-15").click()
    expect(support.get_by_test_id("sim-date")).to_have_text("2026-07-15")

    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Har upphört")
    expect(stage).to_contain_text("Har upphört: användarna behåller tjänsten till 2026-08-09")
    expect(page.get_by_test_id("users-access")).to_have_text("Användarna har full åtkomst till tjänsterna.")
    shots(page, "expired")
    page.get_by_role("button", name="Återaktivera: slå på återkommande fakturering igen").click()
    expect(page.get_by_test_id("status")).to_have_text("Aktiv")
    expect(stage).to_contain_text("Förnyas den 2026-08-15 med samma erbjudande.")
    shots(page, "reactivated")
    sub = Subscription.objects.get(tenant__domain="contoso.com", product__sku="O365_BUSINESS_ESSENTIALS")
    assert (sub.status, sub.start_date.isoformat(), sub.billed_until.isoformat()) == ("active", "2026-07-15",
                                                                                      "2026-08-15")


# --- Issue 20: Available upgrades as cards, and a change into a product already owned ---------------------

INTO = {
    "en-US": {"upgrade": "Upgrade", "into": "Into your existing subscription", "adds": "Adds Exchange Online Archiving",
              "grows": "its licenses grow from 5 to 26, one for each user who moves. 1 user already has it and keeps "
                       "that license.", "card_4242": "Card ending in 4242", "place_order": "Place order",
              "completed": "Completed", "owned": "You already have Microsoft 365 Business Premium",
              "not_upgrade": "it isn't an upgrade"},
    "sv-SE": {"upgrade": "Uppgradera", "into": "Till din befintliga prenumeration",
              "adds": "Lägger till Exchange Online Archiving",
              "grows": "dess licenser ökar från 5 till 26, en för varje användare som flyttas. 1 användare har den "
                       "redan och behåller den licensen.", "card_4242": "Kort som slutar på 4242",
              "place_order": "Placera beställning", "completed": "Slutförd",
              "owned": "Du har redan Microsoft 365 Business Premium", "not_upgrade": "det är ingen uppgradering"},
}


@pytest.mark.parametrize("language", ["en-US", "sv-SE"])
def test_upgrades_as_cards_and_a_change_into_the_premium_contoso_already_has(new_context, shots, tmp_path, language):
    """Contoso (the demo) also has Business Premium, 5 licenses a year billed monthly, alice among its users:
    Business Standard's upgrade to Premium goes into it, and Business Basic (a month's commitment) can't."""
    from licensing.models import LicenseAssignment
    from tests.factories import LicenseFactory, SubscriptionFactory, product

    scenario_load_file("scenarios/demo.json")
    std = Subscription.objects.get(tenant__name="Contoso", product__sku="O365_BUSINESS_PREMIUM")
    basic = Subscription.objects.get(tenant__name="Contoso", product__sku="O365_BUSINESS_ESSENTIALS")
    premium = SubscriptionFactory(tenant=std.tenant, product=product("SPB"), licenses=5, start_date=std.start_date,
                                  payment_method=std.payment_method)
    LicenseFactory(subscription=premium, user=std.assignments.order_by("pk").first().user)
    words = INTO[language]
    with celery_worker(tmp_path / "worker.log", PLANCHANGE_STEP_DELAY="0.2"):
        page = new_context(language)
        login(page, "admin@contoso.com", "Contoso-demo-2026")
        page.goto(f"/billing/products/{std.pk}/upgrades/")
        expect(page.locator("article.card.target")).to_have_count(5)
        card = page.locator("article[data-sku=SPB]")
        expect(card).to_contain_text(words["into"])
        expect(card).to_contain_text(words["adds"])
        expect(page.locator("li[data-sku=O365_BUSINESS_ESSENTIALS]")).to_contain_text(words["not_upgrade"])
        shots(page, "available-upgrades-cards")
        card.get_by_role("link", name=words["upgrade"]).click()
        expect(page.get_by_test_id("into")).to_contain_text(words["grows"])
        shots(page, "checkout-into-existing")
        page.get_by_label(words["card_4242"]).check()
        page.get_by_role("button", name=words["place_order"]).click()
        expect(page.get_by_test_id("change-status")).to_have_text(words["completed"], timeout=60000)
        shots(page, "completed-into-existing")
        page.goto(f"/billing/products/{basic.pk}/upgrades/")
        expect(page.locator("li[data-sku=SPB]")).to_contain_text(words["owned"])
        shots(page, "basic-cannot-go-into-premium")
    premium.refresh_from_db()
    assert (premium.licenses, premium.assigned_licenses) == (26, 22)
    assert Subscription.objects.filter(tenant=std.tenant, product__sku="SPB").count() == 1
    assert not LicenseAssignment.objects.filter(subscription=std).exists()
    assert PlanChange.objects.get().into_existing


def test_the_mca_pane_fixes_length_frequency_and_licenses_for_a_plan_already_owned(new_context, shots):
    """Fabrikam-like: Business Standard and Business Premium on one billing profile. Choosing Premium in the
    pane (a change into it) fixes its length, billing frequency and licenses; choosing Office 365 E3 frees them."""
    from tests.factories import BillingProfileFactory, admin_of, mca_subscription, product

    profile = BillingProfileFactory()
    std = mca_subscription(profile, licenses=10)
    mca_subscription(profile, product=product("SPB"), licenses=4)
    admin = admin_of(profile.tenant)
    page = new_context("en-US")
    login(page, admin.username, "pw-for-tests")
    page.goto(f"/billing/products/{std.pk}/change/?target_sku=ENTERPRISEPACK")
    pane = page.get_by_test_id("change-pane")
    expect(pane.locator("#licenses")).to_be_enabled()
    expect(page.get_by_test_id("into-note")).to_be_hidden()
    page.select_option("#target_sku", "SPB")
    expect(pane.locator("#licenses")).to_be_disabled()
    expect(pane.locator("#term")).to_be_disabled()
    expect(page.get_by_test_id("into-note")).to_be_visible()
    expect(page.get_by_test_id("into")).to_contain_text("its licenses grow from 4 to 4")
    shots(page, "pane-into-owned")
    page.select_option("#target_sku", "ENTERPRISEPACK")
    expect(pane.locator("#licenses")).to_be_enabled()
    expect(page.get_by_test_id("into-note")).to_be_hidden()
