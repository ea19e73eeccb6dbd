"""The support console acts (issue 11): stalled changes found and retried, scheduled changes cancelled,
credit checks decided, incidents opened and resolved, provisioning finished, each confirmed, with a
reason on the audit trail; organizations with their open problems, viewed as their Global reader; and
no tenant admin, whatever the role, reaches any of it."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from billing.models import CreditCheck, Subscription
from planchange.models import PlanChange, PlanChangeStep
from planchange.services import plan_change_request
from portal.models import Event, ServiceIncident
from tests.factories import (
    BillingProfileFactory,
    CreditCheckFactory,
    LoginFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def stalled(at_date):
    """Contoso's change whose worker died in validate: the step is running, its lease long gone."""
    at_date("2026-06-15")
    tenant, card, std, users = mosa_standard(users=3)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=std.pk, target_sku="SPB")
    PlanChange.objects.filter(pk=change.pk).update(status="running")
    PlanChangeStep.objects.filter(plan_change=change, name="validate").update(
        status="running", attempts=1, started_at=timezone.now() - timedelta(minutes=5),
        lease_until=timezone.now() - timedelta(minutes=3))
    return change


def test_a_stalled_change_is_found_explained_and_retried_with_a_reason(client, staff, stalled):
    listed = page_text(client.get("/support/", {"status": "stalled"}))
    assert f"{stalled.pk} Contoso Microsoft 365 Business Standard → Microsoft 365 Business Premium Stalled" in listed
    assert str(stalled.pk) not in page_text(client.get("/support/", {"status": "completed"})).split("Status")[-1]
    page = page_text(client.get(f"/support/changes/{stalled.pk}/"))
    assert "Stalled at Validate: the worker running it stopped renewing its lease at" in page
    assert f"correlation id plan_change/{stalled.pk}" in page
    refused = page_text(client.post(f"/support/changes/{stalled.pk}/retry/", {"reason": "x"}, follow=True))
    assert "Tick the box to confirm." in refused
    refused = page_text(client.post(f"/support/changes/{stalled.pk}/retry/", {"confirm": "yes", "reason": "x"},
                                    follow=True))
    assert "Say why, in 3 to 500 characters of plain text: it goes on the audit trail." in refused
    assert not Event.objects.filter(verb="plan_change.retried").exists()
    done = page_text(client.post(f"/support/changes/{stalled.pk}/retry/",
                                 {"confirm": "yes", "reason": "Worker host rebooted (INC-42)"}, follow=True))
    assert "The change goes on from the step where it stopped." in done
    event = Event.objects.get(verb="plan_change.retried")
    assert (event.actor, event.data) == ("support@portal.local", {
        "step": "validate", "stalled": True, "reason": "Worker host rebooted (INC-42)"})
    trail = page_text(client.get(f"/support/changes/{stalled.pk}/"))
    assert "support@portal.local Support staff ran “Validate” again. Worker host rebooted (INC-42)" in trail


def test_a_running_change_with_a_live_lease_is_not_retried(client, staff, stalled):
    PlanChangeStep.objects.filter(plan_change=stalled, name="validate").update(
        lease_until=timezone.now() + timedelta(minutes=2))
    page = client.post(f"/support/changes/{stalled.pk}/retry/", {"confirm": "yes", "reason": "just because"},
                       follow=True)
    assert "can be retried; this one is Running." in page_text(page)
    assert "Retry" not in page_text(client.get(f"/support/changes/{stalled.pk}/")).split("Audit trail")[0]


def test_support_cancels_a_scheduled_change_and_says_why(client, staff, at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", name="Fabrikam")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice")
    sub = SubscriptionFactory(tenant=tenant, licenses=5, billing_profile=profile, payment="invoice")
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    client.post(f"/support/changes/{change.pk}/cancel/", {"confirm": "yes", "reason": "The customer asked by phone"})
    change.refresh_from_db()
    assert (change.status, change.error_detail) == ("cancelled", "cancelled by support: The customer asked by phone")
    assert Event.objects.get(verb="plan_change.cancelled").actor == "support@portal.local"


def test_support_approves_a_credit_check_and_the_blocker_clears(client, staff, at_date):
    at_date("2026-06-15")
    tenant, card, std, users = mosa_standard()
    check = CreditCheckFactory(tenant=tenant, requested=date(2026, 6, 15))
    client.force_login(admin_of(tenant))
    assert "A credit check is pending." in page_text(client.get(f"/billing/products/{std.pk}/"))
    client.force_login(staff)
    assert "Contoso — requested 2026-06-15" in page_text(client.get("/support/"))
    client.post(f"/support/credit-checks/{check.pk}/", {"decision": "approve", "confirm": "yes",
                                                        "reason": "Paid upfront for the year"})
    check.refresh_from_db()
    assert check.status == CreditCheck.Status.APPROVED
    assert Event.objects.get(verb="credit_check.approved").data == {"reason": "Paid upfront for the year"}
    client.force_login(admin_of(tenant))
    assert "A credit check is pending." not in page_text(client.get(f"/billing/products/{std.pk}/"))


def test_support_opens_and_resolves_an_incident(client, staff, at_date):
    at_date("2026-06-15")
    tenant, card, std, users = mosa_standard()
    client.post("/support/incidents/", {"tenant": tenant.pk, "service": "teams", "status": "serviceDegradation",
                                        "title": "Calls drop", "confirm": "yes", "reason": "Reported by 3 admins"})
    incident = ServiceIncident.objects.get()
    assert (incident.tenant, incident.service, incident.title) == (tenant, "teams", "Calls drop")
    assert "Contoso — Microsoft Teams: Calls drop" in page_text(client.get("/support/"))
    client.post(f"/support/incidents/{incident.pk}/", {"status": "serviceRestored", "confirm": "yes",
                                                       "reason": "Fixed by the Teams team"})
    incident.refresh_from_db()
    assert incident.is_healthy and incident.resolved_at is not None
    assert [e.data["reason"] for e in Event.objects.filter(verb__startswith="incident.").order_by("pk")] == [
        "Reported by 3 admins", "Fixed by the Teams team"]


def test_support_finishes_provisioning_from_the_console(client, staff, at_date):
    at_date("2026-06-15")
    tenant, card, std, users = mosa_standard()
    Subscription.objects.filter(pk=std.pk).update(provisioning="provisioning",
                                                  provisioning_until=timezone.now() + timedelta(hours=1))
    assert "Contoso — Microsoft 365 Business Standard" in page_text(client.get("/support/"))
    client.post(f"/support/subscriptions/{std.pk}/provision/", {"confirm": "yes", "reason": "Customer waiting"})
    std.refresh_from_db()
    assert std.provisioning == "provisioned"


def test_organizations_list_their_problems_and_open_as_their_global_reader(client, staff, stalled):
    CreditCheckFactory(tenant=stalled.tenant, requested=date(2026, 6, 15))
    text = page_text(client.get("/support/tenants/"))
    assert "Contoso contoso.example · MOSA Can't change plans Microsoft 365 Business Standard:" in text
    assert "A credit check is pending." in text and "Stalled 1 plan change" in text
    client.post(f"/support/tenants/{stalled.tenant.pk}/view/")
    home = page_text(client.get("/"))
    assert "Viewing Contoso as support, with its Global reader's access: read-only." in home
    # Read-only: writes are refused, and the support console is one click away.
    assert client.post(f"/billing/products/{stalled.subscription_id}/recurring-billing/",
                       {"enabled": "off"}).status_code == 403
    client.post("/support/view-as/stop/")
    assert client.get("/").status_code == 302  # back to the console


SUPPORT_PAGES = [("get", "/support/"), ("get", "/support/tenants/"), ("get", "/support/changes/{change}/"),
                 ("post", "/support/changes/{change}/retry/"), ("post", "/support/changes/{change}/cancel/"),
                 ("post", "/support/credit-checks/1/"), ("post", "/support/incidents/"),
                 ("post", "/support/incidents/1/"), ("post", "/support/subscriptions/{sub}/provision/"),
                 ("post", "/support/tenants/{tenant}/view/"), ("post", "/support/view-as/stop/"),
                 ("post", "/support/clock/")]
SUPPORT_API = [("get", "/api/v1/support/plan-changes/"), ("get", "/api/v1/support/plan-changes/{change}/"),
               ("post", "/api/v1/support/plan-changes/{change}/retry/"),
               ("post", "/api/v1/support/plan-changes/{change}/cancel/"),
               ("get", "/api/v1/support/tenants/"), ("get", "/api/v1/support/credit-checks/"),
               ("post", "/api/v1/support/credit-checks/1/approve/"), ("get", "/api/v1/support/incidents/"),
               ("post", "/api/v1/support/incidents/"), ("get", "/api/v1/support/subscriptions/"),
               ("post", "/api/v1/support/subscriptions/{sub}/provision/"), ("get", "/api/v1/support/clock/"),
               ("post", "/api/v1/support/clock/"), ("get", "/api/v1/support/workers/")]
ROLES = ["global_admin", "billing_admin", "license_admin", "user_admin", "global_reader",
         "service_support_admin"]


@pytest.mark.parametrize("role", ROLES)
def test_no_tenant_admin_reaches_a_support_page_or_endpoint(client, stalled, role):
    from tests.planchange.test_plan_change_api import client_for

    admin = admin_of(stalled.tenant, role)
    ids = {"change": stalled.pk, "sub": stalled.subscription_id, "tenant": stalled.tenant_id}
    client.force_login(admin)
    api = client_for(admin)
    answers = {}
    for method, url in SUPPORT_PAGES:
        answers[(method, url)] = getattr(client, method)(url.format(**ids)).status_code
    for method, url in SUPPORT_API:
        answers[(method, url)] = getattr(api, method)(url.format(**ids), {}, format="json").status_code
    assert answers == {key: 403 for key in answers}
    assert not Event.objects.filter(actor=admin.username).exists()


def test_home_shows_the_tenants_changes_under_way_failed_and_recent(client, stalled):
    client.force_login(admin_of(stalled.tenant))
    text = page_text(client.get("/"))
    assert "Plan changes under way Microsoft 365 Business Standard → Microsoft 365 Business Premium Running" in text
    PlanChange.objects.filter(pk=stalled.pk).update(status="completed", completed_at=timezone.now())
    text = page_text(client.get("/"))
    assert "Plan changes under way" not in text
    assert "Plan changes completed in the last 30 days Microsoft 365 Business Standard → Microsoft 365 Business " \
           "Premium" in text


def test_the_support_api_finds_stalled_changes_shows_one_whole_and_acts_with_a_reason(stalled):
    from tests.planchange.test_plan_change_api import client_for

    api = client_for(LoginFactory(is_staff=True, username="support@portal.local"))
    listed = api.get("/api/v1/support/plan-changes/", {"status": "stalled"}).json()
    assert [c["id"] for c in listed["results"]] == [stalled.pk]
    assert api.get("/api/v1/support/plan-changes/", {"status": "completed"}).json()["count"] == 0
    whole = api.get(f"/api/v1/support/plan-changes/{stalled.pk}/").json()
    assert (whole["stalled"], whole["correlation_id"], whole["users_moved"], whole["invoice_lines"]) == (
        True, f"plan_change/{stalled.pk}", 0, [])
    assert [e["verb"] for e in whole["events"]] == ["plan_change.requested"]
    retried = api.post(f"/api/v1/support/plan-changes/{stalled.pk}/retry/", {"reason": "Host rebooted"},
                       format="json")
    assert retried.status_code == 200
    assert retried.json()["events"][-1] | {"occurred_at": None} == {
        "occurred_at": None, "actor": "support@portal.local", "verb": "plan_change.retried",
        "data": {"step": "validate", "stalled": True, "reason": "Host rebooted"}}
    refused = api.post(f"/api/v1/support/plan-changes/{stalled.pk}/cancel/", {"reason": "The customer asked"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_scheduled")
    tenants = api.get("/api/v1/support/tenants/").json()["results"]
    contoso = next(t for t in tenants if t["domain"] == "contoso.example")
    assert (contoso["stalled_changes"], contoso["failed_changes"], contoso["overdue"]) == (1, [], [])
    assert contoso["blocked"][0]["blockers"] == ["Another plan is in the process of being changed."]


def test_a_change_stuck_on_a_failed_step_is_a_problem_support_sees(client, staff, stalled):
    PlanChangeStep.objects.filter(plan_change=stalled, name="validate").update(
        status="failed", error="GaveUp: gave up after 10 attempts", lease_until=None)
    assert f"{stalled.pk} Contoso" in page_text(client.get("/support/", {"status": "stuck"}))
    assert "Stuck on a failed step 1 plan change" in page_text(client.get("/support/tenants/"))
    assert page_text(client.get("/support/", {"status": "bogus"})).count("No plan changes.") == 1


def test_recent_support_actions_are_what_support_staff_did_and_only_that(client, staff, stalled):
    from planchange.services import plan_change_retry

    plan_change_retry(change_id=stalled.pk, actor=staff.username)  # through the API: no reason given
    Event.objects.create(tenant=stalled.tenant, actor="admin@contoso.example", verb="plan_change.cancelled",
                         data={"reason": "cancelled by an admin"}, occurred_at=timezone.now())
    actions = page_text(client.get("/support/")).split("Recent support actions")[1]
    assert "support@portal.local Contoso Support staff ran “Validate” again." in actions
    assert "admin@contoso.example" not in actions


def test_a_closed_incident_isnt_reopened_by_a_stale_form_nor_opened_healthy(client, staff, at_date):
    at_date("2026-06-15")
    tenant, card, std, users = mosa_standard()
    client.post("/support/incidents/", {"tenant": tenant.pk, "service": "teams", "status": "serviceRestored",
                                        "title": "Calls drop", "confirm": "yes", "reason": "Reported by 3 admins"})
    assert not ServiceIncident.objects.exists()
    client.post("/support/incidents/", {"tenant": tenant.pk, "service": "teams", "status": "serviceDegradation",
                                        "title": "Calls drop", "confirm": "yes", "reason": "Reported by 3 admins"})
    incident = ServiceIncident.objects.get()
    resolve = {"status": "serviceRestored", "confirm": "yes", "reason": "Fixed by the Teams team"}
    client.post(f"/support/incidents/{incident.pk}/", resolve)
    stale = client.post(f"/support/incidents/{incident.pk}/", {**resolve, "status": "serviceInterruption"},
                        follow=True)
    assert "This incident is closed. If the service has a problem again, open a new incident." in page_text(stale)
    incident.refresh_from_db()
    assert incident.status == "serviceRestored"
    assert Event.objects.filter(verb="incident.updated").count() == 1


def test_a_stalled_change_is_handed_to_a_worker_once_not_once_per_click(client, staff, stalled):
    body = {"confirm": "yes", "reason": "Worker host rebooted"}
    client.post(f"/support/changes/{stalled.pk}/retry/", body)
    again = page_text(client.post(f"/support/changes/{stalled.pk}/retry/", body, follow=True))
    assert "This change was handed to a worker moments ago; give it a minute before retrying again." in again
    assert Event.objects.filter(verb="plan_change.retried").count() == 1


def test_the_organizations_page_reads_the_same_few_queries_for_2_and_8_tenants(client, staff, at_date):
    """One query per kind of problem for the page, not per tenant (eligibility still runs per active
    subscription: these tenants have none)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    at_date("2026-06-15")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/support/tenants/").status_code == 200
        return len(captured.captured_queries)

    for _ in range(2):
        TenantFactory()
    few = queries()
    for _ in range(6):
        TenantFactory()
    assert queries() == few
