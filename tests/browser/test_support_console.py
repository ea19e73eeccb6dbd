"""The support console in Chromium (issue 11): a change whose worker was killed is found stalled,
opened, explained and retried, and completes exactly once; a credit check approved and an incident
resolved unblock a tenant, each action on the audit trail with who and why."""

import re
import time

import pytest
from playwright.sync_api import expect

from billing.models import InvoiceLine, Subscription
from planchange.models import PlanChange, PlanChangeStep
from planchange.services import plan_change_request
from portal.models import Event
from simulation.scenarios.loader import scenario_load_file
from tests.browser.test_admin_center import login
from tests.factories import LoginFactory, admin_of
from tests.worker import celery_worker, kill_hard, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def act(page, scope, reason: str, button: str) -> None:
    scope.locator("textarea[name=reason]").fill(reason)
    scope.locator("input[name=confirm]").check()
    scope.get_by_role("button", name=button).click()


def test_a_stalled_change_is_retried_by_support_and_completes_exactly_once(new_context, shots, tmp_path):
    scenario_load_file("scenarios/demo.json")
    std = Subscription.objects.get(tenant__domain="contoso.com", product__sku="O365_BUSINESS_PREMIUM")
    with celery_worker(tmp_path / "worker1.log", PLANCHANGE_PAUSE_INSIDE="bill:60",
                       PLANCHANGE_STEP_LEASE="3") as worker:
        change = plan_change_request(tenant=std.tenant, user=admin_of(std.tenant), subscription_id=std.pk,
                                     target_sku="SPB")
        wait_for(lambda: PlanChangeStep.objects.get(plan_change=change, name="bill").status == "running",
                 timeout=60, interval=0.05, what="bill to start")
        time.sleep(1.5)  # inside bill's transaction: nothing of it committed
        kill_hard(worker)
    time.sleep(3.5)  # the lease lapses: nobody renews it

    page = new_context("en-US")
    login(page, "support@portal.local", "Support-demo-2026")
    page.locator("#status-filter").select_option("stalled")
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f"tr[data-change='{change.pk}']")
    expect(row).to_contain_text("Stalled")
    shots(page, "console-stalled")
    row.get_by_role("link", name=str(change.pk), exact=True).click()
    expect(page.get_by_test_id("stalled")).to_contain_text("Stalled at Bill: the worker running it stopped renewing")
    expect(page.locator("tr[data-step=bill]")).to_contain_text("Stalled")
    expect(page.get_by_test_id("timeline-svg")).to_be_visible()
    shots(page, "change-stalled")
    with celery_worker(tmp_path / "worker2.log"):
        act(page, page.get_by_test_id("retry-form"), "Worker host was rebooted during bill", "Retry")
        expect(page.locator(".messages")).to_contain_text("The change goes on from the step where it stopped.")
        wait_for(lambda: PlanChange.objects.get(pk=change.pk).status == "completed", timeout=60,
                 what="the change to complete after the retry")
    page.reload()
    expect(page.get_by_test_id("change-status")).to_have_text("Completed")
    expect(page.get_by_test_id("trail").locator("tr[data-verb='plan_change.retried']")).to_contain_text(
        "support@portal.local")
    shots(page, "change-completed")
    change.refresh_from_db()
    credits = InvoiceLine.objects.filter(invoice=change.invoice, amount__lt=0)
    assert credits.count() == 1  # one credit line: the bill step ran to the end once
    assert PlanChangeStep.objects.get(plan_change=change, name="bill").attempts == 2


def test_support_approves_a_credit_check_and_resolves_an_incident_and_the_tenant_is_unblocked(new_context, shots):
    scenario_load_file("scenarios/credit_check_pending.json")
    sub = Subscription.objects.get(tenant__domain="credit-check.example")
    LoginFactory(username="support@portal.local", is_staff=True)  # the row's scenario has no support login
    support = new_context("en-US")
    login(support, "support@portal.local", "pw-for-tests")

    # An incident on Teams, opened by support for this tenant: a second blocker.
    form = support.get_by_test_id("incident-form")
    support.get_by_test_id("incidents").locator("summary").click()
    form.get_by_label("Organization", exact=True).select_option(label=sub.tenant.name)
    form.get_by_label("Service", exact=True).select_option("teams")
    form.get_by_label("Status", exact=True).select_option("serviceDegradation")
    form.get_by_label("Title", exact=True).fill("Calls drop in meetings")
    act(support, form, "Three admins reported it", "Open the incident")
    expect(support.locator(".messages")).to_contain_text("The incident is open.")

    admin = new_context("en-US")
    login(admin, "admin@credit-check.example", "Training-2026")
    admin.goto(f"/billing/products/{sub.pk}/")
    why = admin.get_by_test_id("why-panel")
    expect(why).to_contain_text("A credit check is pending.")
    expect(why).to_contain_text("The service isn't available")
    shots(admin, "blocked")

    check = support.locator("[data-check]").first
    act(support, check, "Paid a year upfront", "Approve")
    expect(support.locator(".messages")).to_contain_text("The credit check is approved.")
    incident = support.locator("[data-incident]").first
    incident.get_by_label("New status").select_option("serviceRestored")
    act(support, incident, "Fixed by the Teams service", "Update the incident")
    expect(support.locator(".messages")).to_contain_text("The incident is updated.")
    actions = support.get_by_test_id("support-actions")
    for verb, reason in (("credit_check.approved", "Paid a year upfront"),
                         ("incident.updated", "Fixed by the Teams service"),
                         ("incident.opened", "Three admins reported it")):
        expect(actions.locator(f"tr[data-verb='{verb}']")).to_contain_text(re.compile(
            rf"support@portal\.local.*{re.escape(reason)}"))
    shots(support, "console-actions")

    admin.reload()
    expect(admin.get_by_test_id("why-panel")).to_have_count(0)
    expect(admin.get_by_test_id("upgrades-link")).not_to_have_attribute("aria-disabled", "true")
    shots(admin, "unblocked")
    assert set(Event.objects.filter(actor="support@portal.local").values_list("verb", flat=True)) == {
        "incident.opened", "credit_check.approved", "incident.updated"}
