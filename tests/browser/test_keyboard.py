"""With the keyboard alone (issue 24): Tab, Shift+Tab, Enter, Space, the arrow keys and Escape, from a page
the admin is on. Both automatic paths (MOSA: checkout and Place order; MCA: the Change plan pane) and
Replace, the skip link to the main content, focus on the page's heading after each navigation, and the
pane a real modal: focus starts inside, Tab and Shift+Tab never leave it, Escape closes it and focus
returns to the link that opened it. Screenshots of the skip link and of the pane with its focus go to
var/screens/ (not committed)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from billing.models import Subscription
from licensing.models import LicenseAssignment
from planchange.models import PlanChange
from simulation.scenarios.loader import scenario_load_file
from tests.browser.test_admin_center import ENGLISH
from tests.worker import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"
IN_PANE = "() => !!document.activeElement && !!document.activeElement.closest('[role=dialog]')"


def signed_in(new_context, live_server, username: str):
    """A page signed in as ``username`` (the session of a login made here: the sign-in form isn't what
    this tests)."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    page = new_context("en-US")
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    return page


def focused(page) -> str:
    return page.evaluate("() => (document.activeElement || document.body).outerHTML.slice(0, 160)")


def tab_to(page, target, *, back: bool = False, limit: int = 80) -> int:
    """Press Tab (Shift+Tab with ``back``) until ``target`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached in {limit} presses; the focus is on {focused(page)}")


def choose(page, select, value: str) -> None:
    """Pick ``value`` in the focused ``select`` with the arrow keys."""
    for key in ("ArrowDown",) * 8 + ("ArrowUp",) * 16:
        if select.input_value() == value:
            return
        page.keyboard.press(key)
    assert select.input_value() == value, (select.input_value(), value)


def heading_has_focus(page, name) -> None:
    expect(page.get_by_role("heading", level=1, name=name)).to_be_focused()


def test_the_skip_link_comes_first_and_goes_to_the_main_content(new_context, live_server):
    scenario_load_file("scenarios/demo.json")
    page = signed_in(new_context, live_server, "admin@contoso.com")
    page.goto("/billing/products/")
    heading_has_focus(page, "Your products")
    # From the top of the page (where Tab from the address bar starts), the first stop is the skip link.
    page.goto("/billing/products/#")
    page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "skip-link.png"))
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is the first control of the content, past the 11 of the shell
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)"), focused(page)


def test_mosa_path_with_the_keyboard(new_context, live_server, tmp_path):
    scenario_load_file("scenarios/demo.json")
    page = signed_in(new_context, live_server, "admin@contoso.com")
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main navigation")
    tab_to(page, nav.get_by_role("link", name="Billing", exact=True), back=True)
    page.keyboard.press("Enter")
    heading_has_focus(page, "Your products")
    tab_to(page, page.get_by_role("link", name="Microsoft 365 Business Standard"))
    page.keyboard.press("Enter")
    heading_has_focus(page, re.compile("^Microsoft 365 Business Standard"))
    tab_to(page, page.get_by_role("link", name=ENGLISH["view_upgrades"]))
    page.keyboard.press("Enter")
    heading_has_focus(page, "Available upgrades")
    tab_to(page, page.locator("article[data-sku=SPB]").get_by_role("link", name="Upgrade"))
    page.keyboard.press("Enter")
    heading_has_focus(page, "Checkout")
    expect(page.get_by_test_id("quote-total")).to_have_text(ENGLISH["total"])
    tab_to(page, page.get_by_label(ENGLISH["card_4242"]))
    page.keyboard.press("Space")
    expect(page.get_by_label(ENGLISH["card_4242"])).to_be_checked()
    with celery_worker(tmp_path / "worker.log", PLANCHANGE_STEP_DELAY="0.2"):
        tab_to(page, page.get_by_role("button", name="Place order"))
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/billing/changes/\d+/$"))
        expect(page.get_by_test_id("change-status")).to_have_text("Completed", timeout=60000)
    assert PlanChange.objects.get().status == "completed"


def test_mca_path_with_the_keyboard_in_a_real_modal(new_context, live_server):
    scenario_load_file("scenarios/demo.json")
    premium = Subscription.objects.get(tenant__domain="fabrikam.com", product__sku="SPB")
    premium.subscription_addons.all().delete()  # the add-on's blocker is test_admin_center's MCA path
    page = signed_in(new_context, live_server, "admin@fabrikam.com")
    page.goto("/billing/products/")
    tab_to(page, page.get_by_role("link", name="Microsoft 365 Business Premium"))
    page.keyboard.press("Enter")
    opener = page.get_by_role("link", name="Change to a different subscription option")
    tab_to(page, opener)
    page.keyboard.press("Enter")
    pane = page.get_by_role("dialog", name="Change to a different subscription option")
    expect(pane).to_have_attribute("aria-modal", "true")
    expect(pane.get_by_label("Plan")).to_be_focused()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "pane-with-focus.png"))
    # Focus stays inside: round and round with Tab, and with Shift+Tab.
    for key in ["Tab"] * 40 + ["Shift+Tab"] * 40:
        page.keyboard.press(key)
        assert page.evaluate(IN_PANE), f"{key} left the pane: the focus is on {focused(page)}"
    # Escape closes it, and the focus is back on the link that opened it.
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(rf"/billing/products/{premium.pk}/#change-option-link$"))
    expect(pane).to_have_count(0)
    expect(opener).to_be_focused()
    # Again, and this time the change, at renewal, with the keyboard.
    page.keyboard.press("Enter")
    expect(pane.get_by_label("Plan")).to_be_focused()
    choose(page, pane.get_by_label("Plan"), "SPE_E3")
    tab_to(page, pane.get_by_label("Now", exact=True))  # a radio group is one stop: its arrows choose
    page.keyboard.press("ArrowDown")
    expect(pane.get_by_label("At renewal (2026-10-01)")).to_be_checked()
    expect(pane.get_by_test_id("quote-credit")).to_have_text("USD 0.00")
    tab_to(page, pane.get_by_role("button", name="Change plan"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("plan-change")).to_contain_text("Scheduled for the renewal on 2026-10-01")
    change = PlanChange.objects.get(tenant__domain="fabrikam.com")
    assert (change.status, change.target_product.sku) == ("scheduled", "SPE_E3")


def test_replace_with_the_keyboard(new_context, live_server):
    scenario_load_file("scenarios/duplicate_product.json")
    keep, extra = Subscription.objects.order_by("start_date")
    page = signed_in(new_context, live_server, "admin@duplicate.example")
    page.goto("/users/")
    heading_has_focus(page, "Active users")
    tab_to(page, page.locator("tr", has_text="user2@duplicate.example").get_by_role("checkbox"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Manage product licenses"))
    page.keyboard.press("Enter")
    pane = page.get_by_role("dialog", name="Manage product licenses")
    expect(pane).to_be_visible()
    assert page.evaluate(IN_PANE), focused(page)
    tab_to(page, pane.get_by_label("Assign licenses", exact=True))  # a radio group is one stop
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(pane.get_by_label("Replace: move to another subscription")).to_be_checked()
    tab_to(page, pane.locator("#license-subscription"))
    choose(page, pane.locator("#license-subscription"), str(extra.pk))
    tab_to(page, pane.locator("#license-to"))
    choose(page, pane.locator("#license-to"), str(keep.pk))
    tab_to(page, pane.get_by_role("button", name="Save changes"))
    page.keyboard.press("Enter")
    review = page.get_by_role("dialog", name="Manage product licenses")
    expect(review.get_by_test_id("user-change-groups")).to_contain_text("keep the same services")
    tab_to(page, review.get_by_role("button", name="Replace the license of 1 user"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("1 user moved to the other subscription.")
    assert list(LicenseAssignment.objects.values_list("subscription_id", flat=True).distinct()) == [keep.pk]


def test_the_language_menu_changes_the_language_only_when_asked(new_context, live_server):
    scenario_load_file("scenarios/demo.json")
    page = signed_in(new_context, live_server, "admin@contoso.com")
    page.goto("/billing/products/")
    menu = page.get_by_label("Language")
    tab_to(page, menu, back=True)
    page.keyboard.press("ArrowDown")  # Svenska chosen, not yet asked for: the page stays, the focus too
    expect(menu).to_have_value("sv")
    page.wait_for_timeout(500)
    expect(page).to_have_url(re.compile(r"/billing/products/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(menu).to_be_focused()
    tab_to(page, page.get_by_role("button", name="Change language"))
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    heading_has_focus(page, "Dina produkter")


def test_after_removing_an_add_on_the_focus_is_on_the_add_ons_section(new_context, live_server):
    """The removal's answer is the subscription's page at #addons: the focus is on that section (a section isn't
    focusable of itself; it was on the page's body, and the next Tab started from the top)."""
    scenario_load_file("scenarios/demo.json")
    premium = Subscription.objects.get(tenant__domain="fabrikam.com", product__sku="SPB")
    assert premium.subscription_addons.exists()
    page = signed_in(new_context, live_server, "admin@fabrikam.com")
    page.goto(f"/billing/products/{premium.pk}/")
    removal = page.get_by_test_id("remove-addon").first
    removal.locator("summary").focus()
    page.keyboard.press("Enter")
    tab_to(page, removal.get_by_role("checkbox"))
    page.keyboard.press("Space")
    tab_to(page, removal.get_by_role("button"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#addons$"))
    expect(page.locator("#addons")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('#addons')"), focused(page)
