"""What a day holds, asked once per day (billing.daywork): the chunks count only the tenants with work, a
step with nothing due is not asked, and a step that another's rows make due the same day still runs."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.daywork import CARD_CHARGES, HABITS, LIFECYCLE, OVERDUE, PERIODS, REFUNDS, STEPS, TRIALS, day_work
from billing.models import Invoice, Subscription
from portal.selectors import TENANT_ID_END, tenant_id_ranges
from simulation.moves import clock_move
from tests.factories import InvoiceFactory, PaymentMethodFactory, SubscriptionFactory, TenantFactory

pytestmark = pytest.mark.django_db


def card_invoice_due(on: date):
    tenant = TenantFactory()
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    InvoiceFactory(tenant=tenant, payment_method=card, date=on, due_date=on, total=Decimal("12.50"))
    return tenant


def test_a_day_with_only_card_charges_names_their_tenants_and_leaves_every_other_step_out(at_date):
    at_date("2026-06-15")
    charged = card_invoice_due(date(2026, 6, 16))
    TenantFactory()  # nothing due
    work = day_work(day=date(2026, 6, 16), since=date(2026, 6, 15))
    assert work.tenant_ids == [charged.pk]
    assert work.idle == frozenset(STEPS) - {CARD_CHARGES}


def test_periods_due_make_the_steps_their_invoices_and_expiries_feed_busy(at_date):
    at_date("2026-06-15")
    sub = SubscriptionFactory(start_date=date(2026, 1, 16))  # its next period begins 2026-06-16
    work = day_work(day=date(2026, 6, 16), since=date(2026, 6, 15))
    assert work.tenant_ids == [sub.tenant_id]
    assert work.idle == frozenset({TRIALS, REFUNDS})
    assert {PERIODS, CARD_CHARGES, HABITS, OVERDUE, LIFECYCLE}.isdisjoint(work.idle)


def test_a_period_billed_late_is_charged_to_its_card_the_same_day(at_date):
    """A period left behind (a plan change held its subscription over its first day) is billed with its
    own dates when the day loop reaches it: its card charge, due days ago, is taken that same day although
    no card charge was due when the day began."""
    at_date("2026-06-15")
    clock_move(actor="support", days=1)  # the day loop's watermark: 2026-06-16
    tenant = TenantFactory()
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(tenant=tenant, payment_method=card, licenses=4, start_date=date(2026, 1, 12))
    Subscription.objects.filter(pk=sub.pk).update(billed_until=date(2026, 6, 12))  # left behind
    moved = clock_move(actor="support", days=1)
    invoice = Invoice.objects.get(tenant=tenant)
    assert (invoice.date, invoice.due_date, invoice.paid == invoice.total > 0) == (
        date(2026, 6, 12), date(2026, 6, 13), True)
    assert [(e["date"], e["kind"]) for e in moved["events"] if e["tenant"] == tenant.pk] == [
        ("2026-06-12", "invoice"), ("2026-06-13", "payment")]


def test_a_quiet_day_over_many_tenants_costs_one_chunk(at_date, settings):
    """Ten tenants, one with work, ten tenants a chunk at most... one: the day is one transaction, not ten."""
    settings.CLOCK_DAY_TENANTS = 1
    at_date("2026-06-15")
    clock_move(actor="support", days=1)
    for _ in range(9):
        TenantFactory()
    card_invoice_due(date(2026, 6, 17))
    with CaptureQueriesContext(connection) as queries:
        moved = clock_move(actor="support", days=1)
    assert [e["kind"] for e in moved["events"]] == ["payment"]
    # Each chunk of tenants is a transaction that first locks the clock's row for the day's progress.
    progress = 'SELECT "portal_simulationclock"."applied_through" AS "applied_through", "portal_simulationclock"."applying_day"'
    chunks = [q for q in queries.captured_queries if q["sql"].startswith(progress)]
    assert len(chunks) == 1


def test_tenant_ranges_cover_every_id_with_size_tenants_of_work_each():
    assert list(tenant_id_ranges([5, 9, 12], lambda: 2)) == [(0, 9), (10, TENANT_ID_END)]
    assert list(tenant_id_ranges([5, 9, 12, 20], lambda: 2)) == [(0, 9), (10, TENANT_ID_END)]
    assert list(tenant_id_ranges([5], lambda: 3)) == [(0, TENANT_ID_END)]
    assert list(tenant_id_ranges([], lambda: 3)) == [(0, TENANT_ID_END)]


def test_a_card_charge_and_a_refund_left_behind_are_taken_the_next_day_when_nothing_else_falls_due(at_date):
    """A card invoice or a refund whose date is already behind the last day applied (a plan change gave back a
    subscription after its day was applied, and billed what waited) is taken on the next day, even when nothing
    else ever falls due: the day loop must not skip over it."""
    at_date("2026-06-15")
    clock_move(actor="support", days=1)  # the day loop's watermark: 2026-06-16
    tenant = card_invoice_due(date(2026, 6, 14))
    card = PaymentMethodFactory(tenant=tenant)
    credit = InvoiceFactory(tenant=tenant, payment_method=card, date=date(2026, 6, 10), due_date=date(2026, 6, 10),
                            total=Decimal("-20.00"), refund=Decimal("20.00"), refund_on=date(2026, 6, 15))
    moved = clock_move(actor="support", days=3)
    charged = Invoice.objects.get(tenant=tenant, total=Decimal("12.50"))
    credit.refresh_from_db()
    assert (charged.paid, credit.refunded) == (Decimal("12.50"), True)
    assert [(e["date"], e["kind"]) for e in moved["events"] if e["tenant"] == tenant.pk] == [
        ("2026-06-14", "payment"), ("2026-06-15", "refund")]
