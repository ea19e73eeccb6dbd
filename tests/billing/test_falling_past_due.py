"""An invoice paid by invoice keeps whether its falling past due was told (``Invoice.past_due_noted``, DESIGN.md
"Time and the subscription lifecycle": an unpaid invoice past due blocks plan changes): one a scenario states past
due is loaded as told, and the upgrade marks what the old rule told, so the day loop tells nothing twice."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice
from portal import clock
from simulation.moves import clock_move
from simulation.scenarios import scenario_load
from tests.helpers import database_at

pytestmark = pytest.mark.django_db


def move(to: str, **kwargs) -> dict:
    return clock_move(actor="support@portal.local", to=date.fromisoformat(to), **kwargs)


def overdue(moved: dict) -> list[tuple]:
    return [(e["date"], e["subject"], e["detail"]) for e in moved["events"] if e["kind"] == "overdue"]


def test_a_scenarios_invoice_stated_past_due_is_loaded_as_told(db):
    scenario_load({"clock": "2026-06-15", "tenants": [{
        "name": "Stated", "domain": "stated.example", "payment_habit": "never",
        "invoices": [
            {"number": "PAST", "date": "2026-05-01", "due_date": "2026-05-31", "amount": "312.50", "paid": "12.50"},
            {"number": "YESTERDAY", "date": "2026-05-15", "due_date": "2026-06-14", "amount": "50.00"},
            {"number": "PAID", "date": "2026-05-01", "due_date": "2026-05-31", "amount": "80.00", "paid": "80.00"},
            {"number": "LATER", "date": "2026-06-01", "due_date": "2026-06-20", "amount": "100.00"}]}]})
    assert dict(Invoice.objects.values_list("number", "past_due_noted")) == {
        "PAST": True, "YESTERDAY": True, "PAID": False, "LATER": False}


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
