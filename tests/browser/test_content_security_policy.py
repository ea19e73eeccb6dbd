"""The portal's Content-Security-Policy in Chromium: the pages, Swagger UI and ReDoc run
under it without a single violation, and the API docs still render every operation."""

import json
import re

import pytest
from playwright.sync_api import expect

from simulation.scenarios.loader import scenario_load_file

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

COLLECT = """document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});"""


def test_pages_and_api_docs_run_under_the_csp_without_violations(browser_page, shots, client):
    scenario_load_file("scenarios/demo.json")
    operations = sum(len(item) for item in json.loads(client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)["paths"].values())
    page = browser_page
    console = []
    page.on("console", lambda m: console.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None)
    page.add_init_script(COLLECT)

    def violations():
        return page.evaluate("window.__csp || []")

    response = page.goto("/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy + ";" and "style-src 'self';" in policy + ";"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    shots(page, "login")
    page.fill("#id_username", "admin@contoso.com")
    page.fill("#id_password", "Contoso-demo-2026")
    page.click("form:has(#id_password) button[type=submit]")  # not the language menu's button
    page.wait_for_url(re.compile(r".*/$"))
    assert violations() == []

    page.goto("/billing/products/")
    expect(page.get_by_role("heading", name="Your products", exact=True)).to_be_visible()
    assert violations() == []
    # The language menu changes the language when its button says so (choosing alone changes nothing).
    page.get_by_label("Language").select_option("sv")
    expect(page.get_by_role("heading", name="Your products", exact=True)).to_be_visible()
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("heading", name="Dina produkter", exact=True)).to_be_visible()
    shots(page, "tenant-page-in-swedish")
    assert violations() == []
    page.get_by_label("Språk").select_option("en")
    page.get_by_role("button", name="Byt språk").click()
    expect(page.get_by_role("heading", name="Your products", exact=True)).to_be_visible()

    page.goto("/api/docs/")
    expect(page.locator(".opblock")).to_have_count(operations)
    expect(page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/plan-changes/$")).first).to_be_visible()
    page.locator(".opblock-summary", has_text="/api/v1/me/").first.click()  # an operation opens
    expect(page.locator(".opblock.is-open .responses-wrapper")).to_be_visible()
    shots(page, "swagger-ui")
    assert violations() == []

    page.goto("/api/redoc/")
    # ReDoc lays out the whole schema in the browser before it shows anything: on a busy two-core machine
    # that took longer than the 5 s a check waits by default ("Loading ..."); this is no speed test.
    expect(page.get_by_role("heading", name="Plan Change Portal API (1.0.0)")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-section-id^='operation/']")).to_have_count(operations)
    expect(page.get_by_role("heading", name="Who am I")).to_be_visible()  # the operation's summary
    shots(page, "redoc")
    assert violations() == []
    assert console == []
