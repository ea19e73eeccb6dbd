"""The manual path in Chromium (issue 10), as a new admin clicks through it, in English and Swedish:
the duplicate-product fix end to end, the article's Steps 1–4, and a move by hand that would lose data."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from billing.lifecycle import subscription_provisioning_finish
from billing.models import Invoice, Subscription
from licensing.models import LicenseAssignment
from planchange.models import PlanChange
from portal import clock
from simulation.scenarios.loader import scenario_load_file
from tests.browser.test_admin_center import login
from tests.factories import LicenseFactory, PaymentMethodFactory, SubscriptionFactory, TenantFactory, admin_of, product
from tests.worker import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LABELS = {
    "en-US": {
        "manage": "Manage product licenses", "replace": "Replace: move to another subscription",
        "save": "Save changes", "keep_same": "keep the same services", "moved": "1 user moved to the other subscription.",
        "replace_one": "Replace the license of 1 user", "cancel": "Cancel subscription",
        "cancel_confirm": "I understand that users lose access now and the data is deleted after 90 days.",
        "cancelled": "The subscription is cancelled. A credit of USD 21.01 for its unused days is on invoice", "disabled": "Disabled",
        "view_upgrades": "View upgrades recommended for your org", "upgrade": "Upgrade",
        "card": "Card ending in 4444", "place_order": "Place order", "completed": "Completed",
        "what_changes": "What changes for your users",
    },
    "sv-SE": {
        "manage": "Hantera produktlicenser", "replace": "Ersätt: flytta till en annan prenumeration",
        "save": "Spara ändringar", "keep_same": "behåller samma tjänster",
        "moved": "1 användare flyttades till den andra prenumerationen.",
        "replace_one": "Ersätt licensen för 1 användare", "cancel": "Avbryt prenumerationen",
        "cancel_confirm": "Jag förstår att användarna förlorar åtkomsten nu och att data tas bort efter 90 dagar.",
        "cancelled": "Prenumerationen är avbruten. En kredit på 21,01\u00a0US$ för de oanvända dagarna finns på faktura", "disabled": "Inaktiverad",
        "view_upgrades": "Visa uppgraderingar som rekommenderas för din organisation", "upgrade": "Uppgradera",
        "card": "Kort som slutar på 4444", "place_order": "Placera beställning", "completed": "Slutförd",
        "what_changes": "Vad som ändras för dina användare",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])
def test_the_duplicate_product_fix_end_to_end(new_context, shots, tmp_path, locale):
    """Two Business Standard subscriptions block the automatic change. The admin moves everyone into
    one with Replace, cancels the other, the blocker clears, and the automatic change then works."""
    labels = LABELS[locale]
    scenario_load_file("scenarios/duplicate_product.json")
    keep, extra = Subscription.objects.order_by("start_date")
    page = new_context(locale)
    login(page, "admin@duplicate.example", "Training-2026")
    page.goto(f"/billing/products/{keep.pk}/")
    expect(page.get_by_test_id("why-panel")).to_contain_text(
        "Du har två eller flera planer för samma produkt." if locale == "sv-SE"
        else "You have two or more plans for the same product.")
    shots(page, "blocked")

    # Users > Active users: tick User 2 (on the second subscription), Manage product licenses, Replace.
    page.goto("/users/")
    page.locator("tr", has_text="user2@duplicate.example").get_by_role("checkbox").check()
    page.get_by_role("button", name=labels["manage"]).click()
    pane = page.get_by_test_id("licenses-pane")
    expect(pane).to_be_visible()
    pane.get_by_label(labels["replace"]).check()
    pane.locator("#license-subscription").select_option(str(extra.pk))
    pane.locator("#license-to").select_option(str(keep.pk))
    shots(page, "replace-pane")
    pane.get_by_role("button", name=labels["save"]).click()
    review = page.get_by_test_id("licenses-pane")
    expect(review.get_by_test_id("user-change-groups")).to_contain_text(labels["keep_same"])
    expect(review.get_by_test_id("backup-required")).to_have_count(0)
    shots(page, "replace-review")
    review.get_by_role("button", name=labels["replace_one"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["moved"])
    assert list(LicenseAssignment.objects.values_list("subscription_id", flat=True).distinct()) == [keep.pk]

    # Cancel the subscription nobody uses any more: a credit for its unused days.
    page.goto(f"/billing/products/{extra.pk}/")
    box = page.get_by_test_id("cancel-subscription")
    box.locator("summary").click()
    box.get_by_label(labels["cancel_confirm"]).check()
    box.get_by_role("button", name=labels["cancel"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["cancelled"])
    expect(page.get_by_test_id("status")).to_have_text(labels["disabled"])
    shots(page, "cancelled")

    # The blocker is gone and the automatic change works.
    page.goto(f"/billing/products/{keep.pk}/")
    expect(page.get_by_test_id("why-panel")).to_have_count(0)
    page.get_by_role("link", name=labels["view_upgrades"]).click()
    page.locator("article[data-sku=SPB]").get_by_role("link", name=labels["upgrade"]).first.click()
    expect(page.get_by_test_id("user-changes")).to_contain_text(labels["what_changes"])
    shots(page, "checkout")
    with celery_worker(tmp_path / "worker.log", PLANCHANGE_STEP_DELAY="0.2"):
        page.get_by_label(labels["card"]).check()
        page.get_by_role("button", name=labels["place_order"]).click()
        expect(page.get_by_test_id("change-status")).to_have_text(labels["completed"], timeout=60000)
    shots(page, "completed")
    change = PlanChange.objects.get()
    assert (change.status, change.subscription_id) == ("completed", keep.pk)
    assert LicenseAssignment.objects.filter(subscription=change.new_subscription).count() == 2


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])
def test_premium_to_basic_by_hand_needs_the_backup_confirmation(new_context, shots, locale):
    """Business Premium → Business Basic with Replace: the review names Exchange Online Archiving, and
    nothing moves until "I have backed up the data" is ticked."""
    scenario_load_file("scenarios/target_not_supported.json")
    premium = Subscription.objects.get()
    basic = SubscriptionFactory(tenant=premium.tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5,
                                payment_method=premium.payment_method)
    page = new_context(locale)
    login(page, "admin@not-supported.example", "Training-2026")
    page.goto(f"/users/?subscription={premium.pk}")
    page.locator("#select-page").check()  # select all on this page
    page.get_by_role("button", name=LABELS[locale]["manage"]).click()
    pane = page.get_by_test_id("licenses-pane")
    pane.get_by_label(LABELS[locale]["replace"]).check()
    pane.locator("#license-subscription").select_option(str(premium.pk))
    pane.locator("#license-to").select_option(str(basic.pk))
    pane.get_by_role("button", name=LABELS[locale]["save"]).click()
    backup = page.get_by_test_id("backup-required")
    expect(backup).to_contain_text("Exchange Online Archiving")
    expect(page.get_by_test_id("user-changes-table").locator("tr[data-upn]")).to_have_count(3)
    shots(page, "backup-required")
    confirm = page.get_by_test_id("replace-confirm")
    confirm.click()  # the box isn't ticked: the browser keeps the form
    assert premium.assignments.count() == 3
    # Without the browser's check (a form sent as is), the portal refuses too and names the service.
    page.evaluate("document.querySelector('input[name=backup_confirmed]').removeAttribute('required')")
    page.get_by_test_id("replace-confirm").click()
    expect(page.get_by_test_id("licenses-error")).to_contain_text("Exchange Online Archiving")
    assert premium.assignments.count() == 3
    shots(page, "refused")
    page.get_by_test_id("backup-required").get_by_role("checkbox").check()
    page.get_by_test_id("replace-confirm").click()
    expect(page).to_have_url(re.compile(rf"/users/\?subscription={basic.pk}$"))
    assert (premium.assignments.count(), basic.assignments.count()) == (0, 3)
    shots(page, "moved")
    assert Invoice.objects.filter(tenant=premium.tenant).count() == 0  # a move by hand bills nothing


STEPS = {
    "en-US": {"purchase": "Billing > Purchase services", "buy": "Buy", "card": "Card ending in 4242",
              "show": "Show where I am", "done": "Done", "users": "Users > Active users", "remove": "Remove licenses",
              "removed": "5 licenses removed: the subscription has 15.", "total_5": "USD 115.50"},
    "sv-SE": {"purchase": "Fakturering > Köp tjänster", "buy": "Köp", "card": "Kort som slutar på 4242",
              "show": "Visa var jag är", "done": "Klar", "users": "Användare > Aktiva användare",
              "remove": "Ta bort licenser", "removed": "5 licenser borttagna: prenumerationen har 15.",
              "total_5": re.compile(r"^115,50\sUS\$$")},
}


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])
def test_the_manual_path_steps_1_to_4_for_5_of_20_users(new_context, shots, locale):
    """The article's "Change plans manually" for 5 of 20 Business Standard users: buy Business Premium
    with 5 licenses, check it, move the 5 with Replace (each user's change shown first), remove the 5
    licenses no longer needed; the checklist follows every step."""
    labels, words = STEPS[locale], LABELS[locale]
    clock.set_date(date(2026, 6, 15))
    tenant = TenantFactory(name="Northwind", domain="northwind.example")
    card = PaymentMethodFactory(tenant=tenant, last4="4242", is_default=True)
    std = SubscriptionFactory(tenant=tenant, licenses=20, payment_method=card)
    users = [LicenseFactory(subscription=std).user for _ in range(20)]
    admin = admin_of(tenant)
    page = new_context(locale)
    login(page, admin.username, "pw-for-tests")

    # Step 1: buy the new subscription, one license per user who moves.
    page.goto(f"/billing/change-plans-manually/?from={std.pk}")
    shots(page, "checklist-start")
    page.locator("li[data-step=buy]").get_by_role("link", name=labels["purchase"]).click()
    page.locator("tr[data-sku=SPB]").get_by_role("link", name=labels["buy"]).click()
    page.locator("#licenses").fill("5")
    expect(page.get_by_test_id("order-total-amount")).to_have_text(labels["total_5"])  # 5 × 23.10, P1Y monthly
    page.get_by_label(labels["card"]).check()
    page.get_by_role("button", name=labels["buy"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/billing/products/\d+/$"))
    premium = Subscription.objects.get(tenant=tenant, product__sku="SPB")
    shots(page, "bought")
    subscription_provisioning_finish(subscription_id=premium.pk, actor="support@portal.local")  # minutes later

    # Step 2: the checklist for the pair.
    page.goto(f"/billing/change-plans-manually/?from={std.pk}&to={premium.pk}")
    page.locator("#moving").fill("5")
    page.get_by_role("button", name=labels["show"]).click()
    for step in ("buy", "check"):
        expect(page.locator(f"li[data-step={step}] [data-state]")).to_have_text(labels["done"])
    shots(page, "checklist-bought")

    # Step 3: move 5 of the 20 with Replace.
    page.locator("li[data-step=move]").get_by_role("link", name=labels["users"]).click()
    moving = sorted(users, key=lambda u: (u.display_name, u.upn))[:5]
    for user in moving:
        page.locator("tr", has_text=user.upn).get_by_role("checkbox").check()
    page.get_by_role("button", name=words["manage"]).click()
    pane = page.get_by_test_id("licenses-pane")
    pane.get_by_label(words["replace"]).check()
    pane.locator("#license-subscription").select_option(str(std.pk))
    pane.locator("#license-to").select_option(str(premium.pk))
    pane.get_by_role("button", name=words["save"]).click()
    table = page.get_by_test_id("user-changes-table")
    expect(table.locator("tr[data-upn]")).to_have_count(5)
    expect(table.locator(f"tr[data-upn='{moving[0].upn}']")).to_contain_text(
        "Microsoft Defender for Business, Microsoft Entra ID P1, Exchange Online Archiving, Microsoft Intune")
    expect(page.get_by_test_id("backup-required")).to_have_count(0)
    shots(page, "review")
    page.get_by_test_id("replace-confirm").click()
    expect(page).to_have_url(re.compile(rf"/users/\?subscription={premium.pk}$"))
    assert sorted(premium.assignments.values_list("user__upn", flat=True)) == sorted(u.upn for u in moving)

    # Step 4: remove the 5 licenses the old subscription no longer needs (MOSA: the unused days credited).
    page.goto(f"/billing/products/{std.pk}/")
    box = page.get_by_test_id("remove-licenses")
    box.locator("summary").click()
    box.locator("#remove-count").fill("5")
    box.get_by_role("button", name=labels["remove"]).click()
    expect(page.locator(".messages")).to_contain_text(labels["removed"])
    shots(page, "licenses-removed")
    credit = Invoice.objects.get(tenant=tenant, lines__description__contains="(20 licenses), 2026-06-15")
    # June 15–30 is 16 of 30 days: 20 × 13.13 = 262.60 → 140.05 reversed; 15 × 13.13 = 196.95 → 105.04 charged.
    assert [(line.description, str(line.amount)) for line in credit.lines.all()] == [
        ("Microsoft 365 Business Standard (20 licenses), 2026-06-15 to 2026-07-01: reversed", "-140.05"),
        ("Microsoft 365 Business Standard (15 licenses), 2026-06-15 to 2026-07-01", "105.04"),
    ]
    page.goto(f"/billing/change-plans-manually/?from={std.pk}&to={premium.pk}&moving=5")
    for step in ("buy", "check", "move", "cancel"):
        expect(page.locator(f"li[data-step={step}] [data-state]")).to_have_text(labels["done"])
    shots(page, "checklist-end")
