"""An invoice paid by invoice falls past due once (DESIGN.md "Time and the subscription lifecycle": an unpaid
invoice past due blocks plan changes): the day loop tells the admin and support (``invoice.overdue``, the
``overdue`` happening) exactly once per invoice, however late it was billed: a period a plan change held its
subscription over and gave back after the due date had passed, too. The invoice keeps that it was told
(``Invoice.past_due_noted``); one a scenario states past due is loaded as told, and the upgrade marks what the old
rule told."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, Subscription
from planchange.services import plan_change_request
from planchange.workflow import run
from portal import clock
from simulation.scenarios import scenario_load
from tests.factories import (
    BillingProfileFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mca_subscription,
    product,
)
from tests.helpers import database_at, move

pytestmark = pytest.mark.django_db



def overdue(moved: dict) -> list[tuple]:
    return [(e["date"], e["subject"], e["detail"]) for e in moved["events"] if e["kind"] == "overdue"]


def noted(tenant) -> list[tuple]:
    return [(e.data["number"], e.occurred_at.date().isoformat())
            for e in tenant.events.filter(verb="invoice.overdue").order_by("pk")]


def test_a_period_billed_after_its_due_date_falls_past_due_once_on_the_next_day(at_date):
    """A MOSA invoice payer (on time, the default habit) asks for a change its worker never runs: the change holds
    the subscription over July 1st and fails on 08-05, giving it back billed through the days applied. July's
    invoice (due 07-31) is made already past due: its pay day passed before it existed (the admin pays it), and
    the next day tells that it is past due, once; August's is paid on its due date by habit."""
    at_date("2026-06-15")
    tenant = TenantFactory(domain="late.example")
    sub = SubscriptionFactory(tenant=tenant, licenses=25, payment="invoice")
    move("2026-06-16")  # the day loop's watermark
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB")
    move("2026-08-05")  # July 1st and August 1st pass while the change holds the subscription: not billed then
    Subscription.objects.filter(pk=sub.pk).update(provisioning="provisioning")  # blocked meanwhile
    assert run(change.pk) == "failed"
    july, august = Invoice.objects.filter(tenant=tenant).order_by("date")
    assert [(i.date.isoformat(), i.due_date.isoformat(), str(i.total), str(i.paid)) for i in (july, august)] == [
        ("2026-07-01", "2026-07-31", "328.25", "0.00"), ("2026-08-01", "2026-08-31", "328.25", "0.00")]
    dry = move("2026-08-06", dry_run=True)
    moved = move("2026-08-06")
    assert moved["events"] == dry["events"]
    told = ("USD 328.25 unpaid past its due date 2026-07-31: plan changes are blocked until it is paid.")
    assert overdue(moved) == [("2026-08-01", july.number, told)]
    assert noted(tenant) == [(july.number, "2026-08-06")]
    later = move("2026-10-15")  # nothing told twice; August's is paid by habit on its due date
    assert overdue(later) == []
    assert noted(tenant) == [(july.number, "2026-08-06")]
    august.refresh_from_db()
    july.refresh_from_db()
    assert (str(july.paid), july.status_on(clock.today()), str(august.paid)) == ("0.00", "overdue", "328.25")


def test_a_paid_monthly_invoice_a_late_line_joins_after_its_due_date_falls_past_due_once(at_date):
    """MCA: the profile pays its invoice of 08-01 on its due date (08-31); a change held one of its two
    subscriptions over July 1st and fails on 09-05: that subscription's July line joins the invoice of 08-01,
    paid and past its due date, which is unpaid again and told past due on the next day, once."""
    at_date("2026-06-15")
    profile = BillingProfileFactory(tenant=TenantFactory(domain="joined.example", agreement="MCA"))
    tenant = profile.tenant
    held = mca_subscription(profile, licenses=12)
    mca_subscription(profile, licenses=5, product=product("O365_BUSINESS_ESSENTIALS"))
    move("2026-06-16")
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=held.pk, target_sku="SPB")
    move("2026-09-05")
    august = Invoice.objects.get(tenant=tenant, date=date(2026, 8, 1))
    assert (str(august.total), str(august.paid)) == ("31.50", "31.50")  # Business Basic: 5 × 6.30, paid on 08-31
    Subscription.objects.filter(pk=held.pk).update(provisioning="provisioning")
    assert run(change.pk) == "failed"
    august.refresh_from_db()
    assert (str(august.total), str(august.paid)) == ("189.06", "31.50")  # 12 × 13.13 = 157.56 joined it
    moved = move("2026-09-06")
    told = "USD 157.56 unpaid past its due date 2026-08-31: plan changes are blocked until it is paid."
    assert overdue(moved) == [("2026-09-01", august.number, told)]
    assert overdue(move("2026-11-15")) == []
    assert noted(tenant) == [(august.number, "2026-09-06")]


def test_an_invoice_told_past_due_then_paid_falls_past_due_anew_when_a_late_line_leaves_it_unpaid(at_date):
    """MCA, a profile that never pays: its invoice of 08-01 falls past due on 09-01 (told), the admin pays it (Pay
    now) on 09-05, and a change that held one of its subscriptions over July 1st fails: the July line joins the paid
    invoice, unpaid again, and it falls past due anew, told once more the next day."""
    from billing.services import invoice_pay

    at_date("2026-06-15")
    profile = BillingProfileFactory(tenant=TenantFactory(domain="again.example", agreement="MCA"),
                                    payment_habit="never")
    tenant = profile.tenant
    held = mca_subscription(profile, licenses=12)
    mca_subscription(profile, licenses=5, product=product("O365_BUSINESS_ESSENTIALS"))
    move("2026-06-16")
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=held.pk, target_sku="SPB")
    moved = move("2026-09-05")
    august = Invoice.objects.get(tenant=tenant, date=date(2026, 8, 1))
    assert [(day, number) for day, number, _ in overdue(moved)] == [("2026-09-01", august.number)]
    invoice_pay(tenant=tenant, invoice_id=august.pk, actor="admin@again.example")
    august.refresh_from_db()
    assert (str(august.total), str(august.paid), august.past_due_noted) == ("31.50", "31.50", False)
    Subscription.objects.filter(pk=held.pk).update(provisioning="provisioning")
    assert run(change.pk) == "failed"
    told = "USD 157.56 unpaid past its due date 2026-08-31: plan changes are blocked until it is paid."
    assert overdue(move("2026-09-06")) == [("2026-09-01", august.number, told)]
    assert august.number not in [number for _, number, _ in overdue(move("2026-11-15"))]  # later ones are told
    assert [n for n in noted(tenant) if n[0] == august.number] == [(august.number, "2026-09-01"),
                                                                   (august.number, "2026-09-06")]


def test_a_scenarios_invoice_stated_past_due_is_loaded_as_told_and_one_due_later_is_told_when_it_falls(db):
    scenario_load({"clock": "2026-06-15", "tenants": [{
        "name": "Stated", "domain": "stated.example", "payment_habit": "never",
        "invoices": [
            {"number": "PAST", "date": "2026-05-01", "due_date": "2026-05-31", "amount": "312.50", "paid": "12.50"},
            {"number": "YESTERDAY", "date": "2026-05-15", "due_date": "2026-06-14", "amount": "50.00"},
            {"number": "PAID", "date": "2026-05-01", "due_date": "2026-05-31", "amount": "80.00", "paid": "80.00"},
            {"number": "LATER", "date": "2026-06-01", "due_date": "2026-06-20", "amount": "100.00"}]}]})
    assert dict(Invoice.objects.values_list("number", "past_due_noted")) == {
        "PAST": True, "YESTERDAY": True, "PAID": False, "LATER": False}
    moved = move("2026-07-01")
    assert overdue(moved) == [("2026-06-21", "LATER", "USD 100.00 unpaid past its due date 2026-06-20: plan changes "
                                                      "are blocked until it is paid.")]


# billing 0020 on a database from before it: what the old rule told (or would never tell) is marked told.
BEFORE = [("billing", "0019_invoice_credit_index")]


def _old_invoice(old, tenant, number: str, due: str, paid: str = "0.00") -> None:
    old.get_model("billing", "Invoice").objects.create(
        tenant=tenant, number=number, date=date(2026, 6, 1), due_date=date.fromisoformat(due),
        total=Decimal("65.65"), paid=Decimal(paid))


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_marks_what_the_old_rule_told_and_none_of_it_is_told_again():
    """The old rule told an invoice whose due date fell between two days applied. Applied through 07-01, and
    07-15 applied for the first tenant only (a move stopped between two chunks of tenants): the first
    tenant's invoices due before 07-15 and everybody's due before 07-01 were told; the second tenant's due
    07-14 is told when the rest of 07-15 is applied, the one due 07-15 on 07-16."""
    with database_at(BEFORE) as old:
        tenants = old.get_model("portal", "Tenant").objects
        first = tenants.create(name="First", domain="first.example")
        second = tenants.create(name="Second", domain="second.example")
        for tenant in (first, second):
            old.get_model("billing", "InvoicePayer").objects.create(tenant=tenant, payment_habit="never")
        _old_invoice(old, first, "TOLD", "2026-06-30")
        _old_invoice(old, first, "PAID", "2026-06-30", paid="65.65")
        _old_invoice(old, first, "TOLD-MIDWAY", "2026-07-14")
        _old_invoice(old, second, "UNTOLD-MIDWAY", "2026-07-14")
        _old_invoice(old, first, "DUE-LATER", "2026-07-15")
        old.get_model("portal", "SimulationClock").objects.update_or_create(pk=1, defaults={
            "applied_through": date(2026, 7, 1), "applying_day": date(2026, 7, 15),
            "applying_tenants_through": first.pk})
    assert sorted(Invoice.objects.filter(past_due_noted=True).values_list("number", flat=True)) == [
        "TOLD", "TOLD-MIDWAY"]
    clock.set_date(date(2026, 7, 20))
    moved = move("2026-07-20")
    assert [(day, number) for day, number, _ in overdue(moved)] == [
        ("2026-07-15", "UNTOLD-MIDWAY"), ("2026-07-16", "DUE-LATER")]


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_of_a_portal_whose_days_never_ran_marks_what_fell_due_before_yesterday():
    """No day applied yet: the first move starts the days the day before today, so the old rule told an invoice
    due yesterday (on the first day applied) and never one due earlier."""
    with database_at(BEFORE) as old:
        tenant = old.get_model("portal", "Tenant").objects.create(name="Fresh", domain="fresh.example")
        old.get_model("billing", "InvoicePayer").objects.create(tenant=tenant, payment_habit="never")
        _old_invoice(old, tenant, "EARLIER", "2026-06-13")
        _old_invoice(old, tenant, "YESTERDAY", "2026-06-14")
        real_today = timezone.now().date()
        old.get_model("portal", "SimulationClock").objects.create(
            pk=1, offset=timedelta(days=(date(2026, 6, 15) - real_today).days))
    assert dict(Invoice.objects.values_list("number", "past_due_noted")) == {"EARLIER": True, "YESTERDAY": False}
    assert [(day, number) for day, number, _ in overdue(move("2026-06-16"))] == [("2026-06-15", "YESTERDAY")]


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_of_a_portal_whose_clock_row_was_never_made_marks_what_fell_due_before_yesterday():
    """No clock row at all (the clock at real time, no day applied): as a row with no day applied."""
    real_today = timezone.now().date()
    with database_at(BEFORE) as old:
        tenant = old.get_model("portal", "Tenant").objects.create(name="Rowless", domain="rowless.example")
        old.get_model("billing", "InvoicePayer").objects.create(tenant=tenant, payment_habit="never")
        old.get_model("portal", "SimulationClock").objects.all().delete()
        _old_invoice(old, tenant, "EARLIER", (real_today - timedelta(days=2)).isoformat())
        _old_invoice(old, tenant, "YESTERDAY", (real_today - timedelta(days=1)).isoformat())
    assert dict(Invoice.objects.values_list("number", "past_due_noted")) == {"EARLIER": True, "YESTERDAY": False}
