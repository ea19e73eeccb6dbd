"""Who sets a payer's habit: support staff (the console's page of an organization, and
``support/tenants/{id}/payment-habits/``), with a reason, and scenario files. The habit applies to pay
days still to come."""

import json
from datetime import date

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from billing.models import BillingProfile, InvoicePayer
from portal.models import Event, Tenant
from simulation.moves import clock_move
from simulation.scenarios.checks import scenario_validate
from tests.factories import (
    BillingProfileFactory,
    LoginFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
)
from tests.helpers import page_text
from tests.planchange.test_plan_change_api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def fabrikam(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="fabrikam.example", name="Fabrikam")
    profile = BillingProfileFactory(tenant=tenant, name="Fabrikam billing", payment="invoice")
    SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice",
                        start_date=date(2025, 10, 1))
    return tenant, profile


@pytest.fixture
def staff(client):
    client.force_login(LoginFactory(is_staff=True, username="support@portal.local"))
    return client


def test_support_sets_a_profile_to_pay_late_on_the_console_with_a_reason_and_the_clock_follows_it(
        fabrikam, staff):
    tenant, profile = fabrikam
    assert f"/support/tenants/{tenant.pk}/payments/" in staff.get("/support/tenants/").content.decode()
    page = page_text(staff.get(f"/support/tenants/{tenant.pk}/payments/"))
    assert "How Fabrikam pays" in page and "Fabrikam billing Now: Pays on the due date" in page
    url = f"/support/tenants/{tenant.pk}/payments/habit/"
    form = {"billing_profile": profile.pk, "payment_habit": "late", "payment_delay_days": "12", "confirm": "yes",
            "next": f"/support/tenants/{tenant.pk}/payments/"}
    refused = staff.post(url, {**form, "reason": ""}, follow=True)  # a reason is required on the console
    assert "Say why, in 3 to 500 characters of plain text" in page_text(refused)
    refused = staff.post(url, {**form, "payment_delay_days": "366", "reason": "Training"}, follow=True)
    assert "Enter how many days late the payer pays: a whole number from 1 to 365." in page_text(refused)
    profile.refresh_from_db()
    assert (profile.payment_habit, profile.payment_delay_days) == ("on_time", 0)
    done = staff.post(url, {**form, "reason": "Training: a slow payer"}, follow=True)
    assert "The payment habit is set." in page_text(done)
    assert "Fabrikam billing Now: Pays 12 days after the due date" in page_text(done)
    event = tenant.events.get(verb="payment_habit.changed")
    assert (event.actor, event.data) == ("support@portal.local", {
        "payer": "Fabrikam billing", "habit": "late", "days": 12, "from": "on_time", "from_days": 0,
        "support_reason": "Training: a slow payer"})
    # The admin sees it on Bills & payments, read-only.
    admin = Client()
    admin.force_login(admin_of(tenant))
    assert "Fabrikam billing Pays 12 days after the due date" in page_text(admin.get("/billing/bills/"))
    moved = clock_move(actor="support@portal.local", to=date(2026, 9, 15))
    assert [(e["date"], e["subject"]) for e in moved["events"] if e["kind"] == "invoice_payment"] == [
        ("2026-09-12", f"BP{profile.pk}-202608")]


def test_support_sets_habits_through_the_api(fabrikam):
    tenant, profile = fabrikam
    api = client_for(LoginFactory(is_staff=True, username="support@portal.local"))
    url = f"/api/v1/support/tenants/{tenant.pk}/payment-habits/"
    assert api.get(url).json() == [{"billing_profile": profile.pk, "name": "Fabrikam billing",
                                    "payment_habit": "on_time", "payment_delay_days": 0}]
    answer = api.post(url, {"billing_profile": profile.pk, "payment_habit": "never", "reason": "Dunning drill"},
                      format="json")
    assert (answer.status_code, answer.json()[0]["payment_habit"]) == (200, "never")
    for body, code in (({"payment_habit": "sometimes"}, "invalid_payment_habit"),
                       ({"payment_habit": "late"}, "invalid_payment_delay"),
                       ({"payment_habit": "late", "payment_delay_days": 0}, "invalid_payment_delay"),
                       ({"payment_habit": "on_time", "payment_delay_days": 5}, "invalid_payment_delay")):
        refused = api.post(url, {"billing_profile": profile.pk, **body}, format="json")
        assert (refused.status_code, refused.json()["code"]) == (422, code), body
    other = BillingProfileFactory()  # another organization's profile is no payer of this one
    refused = api.post(url, {"billing_profile": other.pk, "payment_habit": "never"}, format="json")
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        422, "unknown_billing_profile", "billing_profile")
    assert api.post(f"/api/v1/support/tenants/{2**40}/payment-habits/", {"payment_habit": "never"},
                    format="json").json()["code"] == "tenant_not_found"
    # A MOSA tenant's own invoices: no profile named.
    mosa = TenantFactory(domain="mosa.example", name="Mosa")
    answer = api.post(f"/api/v1/support/tenants/{mosa.pk}/payment-habits/",
                      {"payment_habit": "late", "payment_delay_days": 7}, format="json")
    assert answer.json() == [{"billing_profile": None, "name": "Mosa", "payment_habit": "late",
                              "payment_delay_days": 7}]
    assert InvoicePayer.objects.get(tenant=mosa).payment_delay_days == 7
    # Tenant admins can't.
    tenant_api = client_for(admin_of(tenant))
    assert tenant_api.post(url, {"payment_habit": "never"}, format="json").status_code == 403
    profile.refresh_from_db()
    assert profile.payment_habit == "never"


def test_a_habit_set_after_an_invoices_pay_day_leaves_that_invoice_to_the_admin(fabrikam):
    tenant, profile = fabrikam
    profile.payment_habit = "never"
    profile.save()
    clock_move(actor="support", to=date(2026, 9, 5))  # BP…-202608 (due 08-31) is past due
    api = client_for(LoginFactory(is_staff=True))
    api.post(f"/api/v1/support/tenants/{tenant.pk}/payment-habits/",
             {"billing_profile": profile.pk, "payment_habit": "late", "payment_delay_days": 10}, format="json")
    moved = clock_move(actor="support", to=date(2026, 10, 20))
    # 08-31 + 10 = 09-10 is still to come: paid then; September's invoice (due 10-01) on 10-11.
    assert [(e["date"], e["subject"]) for e in moved["events"] if e["kind"] == "invoice_payment"] == [
        ("2026-09-10", f"BP{profile.pk}-202608"), ("2026-10-11", f"BP{profile.pk}-202609")]


SCENARIO = {
    "clock": "2026-06-15",
    "tenants": [{
        "name": "Habits", "domain": "habits.example", "agreement": "MCA",
        "billing_profiles": [{"key": "slow", "name": "Slow billing", "payment_habit": "late", "payment_delay_days": 20},
                             {"key": "none", "name": "Never billing", "payment_habit": "never"},
                             {"key": "ok", "name": "Punctual billing"}],
        "payment_habit": "never",
        "invoices": [{"number": "HAB-1", "date": "2026-06-01", "due_date": "2026-07-01", "amount": "10.00",
                      "billing_profile": "slow"}],
    }, {
        "name": "Mosa payer", "domain": "mosapayer.example",
        "payment_habit": "late", "payment_delay_days": 4,
    }],
}


def test_scenario_files_set_each_payers_habit(tmp_path, at_date):
    at_date("2026-06-15")
    path = tmp_path / "habits.json"
    path.write_text(json.dumps(SCENARIO))
    call_command("load_scenario", str(path))
    tenant = Tenant.objects.get(domain="habits.example")
    assert sorted(BillingProfile.objects.filter(tenant=tenant).values_list("name", "payment_habit",
                                                                           "payment_delay_days")) == [
        ("Never billing", "never", 0), ("Punctual billing", "on_time", 0), ("Slow billing", "late", 20)]
    assert InvoicePayer.objects.get(tenant=tenant).payment_habit == "never"
    mosa = InvoicePayer.objects.get(tenant__domain="mosapayer.example")
    assert (mosa.payment_habit, mosa.payment_delay_days) == ("late", 4)
    moved = clock_move(actor="support", to=date(2026, 7, 31))
    assert [(e["date"], e["subject"]) for e in moved["events"] if e["kind"] == "invoice_payment"] == [
        ("2026-07-21", "HAB-1")]


@pytest.mark.parametrize(("payer", "error"), [
    ({"payment_habit": "late"}, "payment_delay_days: a late payer needs its number of days (1 to 365)"),
    ({"payment_habit": "never", "payment_delay_days": 3},
     "payment_delay_days: only a late payer (\"payment_habit\": \"late\") has days"),
    ({"payment_habit": "late", "payment_delay_days": 400}, "payment_delay_days: 400 is greater than the maximum"),
    ({"payment_habit": "sometimes"}, "payment_habit: 'sometimes' is not one of: on_time, late, never"),
])
def test_a_scenario_files_habit_is_checked(payer, error, at_date):
    at_date("2026-06-15")
    data = {"tenants": [{"name": "X", "domain": "x.example", "agreement": "MCA",
                         "billing_profiles": [{"key": "main", "name": "X billing", **payer}]}]}
    errors = scenario_validate(data)
    assert any(e.startswith("tenants[0].billing_profiles[0].") and error in e for e in errors), errors


def test_the_habit_events_read_in_english_and_swedish():
    events = [Event(verb="invoice.paid", data={"number": "BP1-202608", "amount": "157.56", "payer": "Fabrikam billing",
                                               "due": "2026-08-31", "days_late": 0}),
              Event(verb="invoice.paid", data={"number": "BP1-202608", "amount": "157.56", "payer": "Fabrikam billing",
                                               "due": "2026-08-31", "days_late": 10}),
              Event(verb="invoice.paid", data={"number": "BP1-202608", "amount": "157.56", "settled": True}),
              Event(verb="payment_habit.changed", data={"payer": "Mosa", "habit": "never", "days": 0}),
              Event(verb="payment_habit.changed", data={"payer": "Mosa", "habit": "on_time", "days": 0})]
    template = Template("{% load texts %}{{ event|event_text }}")
    with translation.override("en"):
        english = [template.render(Context({"event": e})) for e in events]
    with translation.override("sv"):
        swedish = [template.render(Context({"event": e})) for e in events]
    assert english == [
        "Invoice BP1-202608 paid by Fabrikam billing on its due date: USD 157.56.",
        "Invoice BP1-202608 paid by Fabrikam billing: USD 157.56, 10 days after its due date.",
        "Invoice BP1-202608 paid with Settle balance: USD 157.56.",
        "Mosa now never pays its invoices: they wait for Pay now or Settle balance.",
        "Mosa now pays its invoices on the due date.",
    ]
    assert swedish == [
        "Faktura BP1-202608 betalades av Fabrikam billing på förfallodagen: 157,56\xa0US$.",
        "Faktura BP1-202608 betalades av Fabrikam billing: 157,56\xa0US$, 10 dagar efter förfallodagen.",
        "Faktura BP1-202608 betalades med Reglera saldo: 157,56\xa0US$.",
        "Mosa betalar nu aldrig sina fakturor: de väntar på Betala nu eller Reglera saldo.",
        "Mosa betalar nu sina fakturor på förfallodagen.",
    ]
