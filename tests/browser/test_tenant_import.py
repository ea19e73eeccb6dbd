"""Rehearse on your own tenant, in Chromium, in English and Swedish (issue 23): support staff upload a Graph
export on the console's import page and watch its progress; the imported tenant's admin signs in with the
login shown once, opens Checkout, narrows "Each user" to the users whose settings are reset and downloads them
as CSV."""

import csv
import json

import pytest
from playwright.sync_api import expect

from billing.models import Subscription
from tests.browser.test_admin_center import login
from tests.factories import LoginFactory
from tests.simulation.conftest import rehearsal_export
from tests.simulation.tenants import DOMAIN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TEXTS = {
    "en-US": {"import": "Import", "imported": "Imported Rehearsal AB (rehearsal.example)", "each": "Each user",
              "reset": "users whose settings are reset", "csv": "Download as CSV (every user)",
              "refused": "This isn't an export of Microsoft Graph"},
    "sv-SE": {"import": "Importera", "imported": "Importerade Rehearsal AB (rehearsal.example)",
              "each": "Varje användare", "reset": "användare vars inställningar återställs",
              "csv": "Ladda ned som CSV (alla användare)", "refused": "Det här är ingen export från Microsoft Graph"},
}


@pytest.mark.parametrize("locale", ["en-US", "sv-SE"])
def test_upload_then_filter_and_download_each_users_change(new_context, shots, tmp_path, locale):
    texts = TEXTS[locale]
    data = rehearsal_export()[0]
    basic = next(s for s in data["directory/subscriptions"]["value"] if s["skuPartNumber"] == "O365_BUSINESS_ESSENTIALS")
    basic["totalLicenses"] = 5  # bought enough: Checkout isn't blocked
    export, scenario = tmp_path / "export.json", tmp_path / "scenario.json"
    export.write_text(json.dumps(data))
    scenario.write_text(json.dumps({"tenants": []}))
    LoginFactory(username="support@portal.local", password="Support-test-2026", is_staff=True)

    page = new_context(locale)
    login(page, "support@portal.local", "Support-test-2026")
    page.goto("/support/tenants/import/")
    page.set_input_files("#id_file", str(scenario))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-refused")).to_contain_text(texts["refused"])
    page.set_input_files("#id_file", str(export))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-result")).to_contain_text(texts["imported"])
    expect(page.get_by_test_id("import-progress").locator("progress")).to_have_attribute("value", "7")
    shots(page, "imported")
    password = page.get_by_test_id("import-password").inner_text()

    admin = new_context(locale)
    login(admin, "admin@rehearsal.example", password)
    sub = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")
    admin.goto(f"/billing/products/{sub.pk}/upgrades/SPB/checkout/")
    admin.get_by_text(texts["each"], exact=True).click()
    table = admin.get_by_test_id("user-changes-table")
    expect(table.locator("tbody tr:visible")).to_have_count(4)
    admin.get_by_test_id("user-changes-filter").select_option(label=texts["reset"])
    expect(table.locator("tbody tr:visible")).to_have_count(2)
    expect(table.locator("tbody tr:visible").first).to_have_attribute("data-upn", "anna@rehearsal.example")
    shots(admin, "each-user-filtered")
    with admin.expect_download() as caught:
        admin.get_by_role("link", name=texts["csv"]).click()
    rows = list(csv.reader(open(caught.value.path(), encoding="utf-8")))
    assert [r[0] for r in rows] == ["user_principal_name", "anna@rehearsal.example", "cia@rehearsal.example"]
