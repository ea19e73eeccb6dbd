"""Settings > API tokens in Chromium: a token made is shown once with a working Copy button, and the
list stays inside its card whatever the names (found by probing, probe1: a 100-character name without
a space widened the table past the card and the page)."""

import re

import pytest
from playwright.sync_api import expect

from portal.services import api_token_create
from tests.factories import TenantFactory, admin_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def sign_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests")
    page.click("form:has(#id_password) button[type=submit]")  # not the language menu's button
    page.wait_for_url(re.compile(r".*/$"))


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])
def test_long_names_wrap_inside_the_card_and_the_new_token_copies(new_context, shots, locale):
    admin = admin_of(TenantFactory(name="Contoso", domain="contoso.example"))
    for name in ("A" * 100, "😀" * 100, "Nightly report"):
        api_token_create(user=admin, name=name)
    page = new_context(locale)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, admin.username)
    page.goto("/settings/api-tokens/")
    table = page.get_by_test_id("tokens-table")
    expect(table).to_be_visible()
    card = table.locator("xpath=ancestor::section[1]")
    assert table.bounding_box()["x"] + table.bounding_box()["width"] <= card.bounding_box()["x"] + card.bounding_box()["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    shots(page, "long-names")
    page.fill("#token-name", "CI")
    page.locator("form[data-testid=create-token] button[type=submit]").click()
    shown = page.get_by_test_id("new-token").input_value()
    assert re.fullmatch(r"pcp_[A-Za-z0-9]{48}", shown)
    page.locator("button[data-copy=new-token]").click()
    assert page.evaluate("navigator.clipboard.readText()") == shown
    shots(page, "made-and-copied")
