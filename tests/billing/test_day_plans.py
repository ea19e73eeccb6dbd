"""The day loop's reads and writes of invoices stay lookups by index however many invoices years of moves have
left behind (PostgreSQL's plans; issue 21: a day late in a ten-year move took 1.5 s where an early one took a
tenth of it). A move refreshes the statistics of the tables it grows when they have gone stale
(``billing.daywork.day_statistics_refresh``); each statement of the move that touches the invoices or their lines
is explained as it runs."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing.models import Invoice, InvoiceLine
from portal import clock
from portal.bulk import rows_insert
from simulation.moves import clock_move
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory

pytestmark = pytest.mark.django_db


def years_of_invoices(n: int, tenants: list | None = None) -> None:
    """``n`` paid invoices, a line each (as years of monthly billing leave them), of ``tenants`` in turn (of another
    tenant when None)."""
    tenants = tenants or [TenantFactory(domain="years.example")]
    invoices = rows_insert([Invoice(tenant=tenants[i % len(tenants)], number=f"OLD-{i:06d}", date=date(2020, 1, 1),
                                    due_date=date(2020, 1, 1) + timedelta(days=i % 900), total=Decimal("10.00"),
                                    paid=Decimal("10.00"), period_key=f"old/{i}") for i in range(n)], ids=True)
    rows_insert([InvoiceLine(invoice=invoice, description="Charge", amount=Decimal("10.00"),
                             idempotency_key=f"old-line/{invoice.pk}") for invoice in invoices])


def test_a_move_looks_invoices_and_lines_up_by_index_among_years_of_them(at_date, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    settings.CLOCK_STATISTICS_HAPPENINGS = 10_000  # production's (the suite's is off)
    at_date("2026-06-14")
    clock_move(actor="support", to=date(2026, 6, 15))  # the day loop's watermark
    subs = []
    for _ in range(60):  # a chunk of tenants, each billed today
        tenant = TenantFactory()
        card = PaymentMethodFactory(tenant=tenant, is_default=True)
        subs.append(SubscriptionFactory(tenant=tenant, payment_method=card, start_date=date(2026, 1, 16)))
    # Years of their own invoices (and another tenant's): the account credit each new invoice takes is looked up
    # among the tenants' few credit invoices, not all of theirs (the partial index invoice_credit).
    years_of_invoices(20_000, tenants=[TenantFactory(domain="years.example"), *(sub.tenant for sub in subs)])
    Invoice.objects.create(tenant=subs[0].tenant, number="CREDIT-1", date=date(2026, 6, 1), due_date=date(2026, 6, 1),
                           total=Decimal("-5.00"))  # account credit the first one's new invoice takes
    plans = []

    def explained(execute, sql, params, many, context):
        if sql.startswith(("SELECT", "(SELECT", "UPDATE", "WITH")) and ('"billing_invoice' in sql):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                plans.append((sql[:120], "\n".join(row[0] for row in cursor.fetchall())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explained):
        happened = clock_move(actor="support", to=date(2026, 6, 16))["events"]
    assert [h["kind"] for h in happened] == ["invoice"] * 60
    assert len(plans) >= 3
    for sql, plan in plans:
        assert "Seq Scan on billing_invoice " not in plan and "Seq Scan on billing_invoiceline " not in plan, (
            f"{sql}\n{plan}")
    first = Invoice.objects.get(number=f"INV-20260616-P{subs[0].pk:05d}")
    subs[0].refresh_from_db()
    assert sorted(first.lines.values_list("amount", flat=True)) == [Decimal("-5.00"), subs[0].billed_amount]
    assert first.total == subs[0].billed_amount - Decimal("5.00")


def test_a_days_new_invoices_are_written_once_with_their_totals(at_date):
    """The invoices a day's billing makes are written once, with their totals (their ids drawn first, for the
    account credit they take to name them): no update of rows it has just inserted. On SQLite, where ids come from
    inserting, they are inserted first and their totals written with the others'."""
    from django.test.utils import CaptureQueriesContext

    at_date("2026-06-14")
    clock_move(actor="support", to=date(2026, 6, 15))
    subs = []
    for _ in range(5):
        tenant = TenantFactory()
        card = PaymentMethodFactory(tenant=tenant, is_default=True)
        subs.append(SubscriptionFactory(tenant=tenant, payment_method=card, start_date=date(2026, 1, 16)))
    with CaptureQueriesContext(connection) as queries:
        clock_move(actor="support", to=date(2026, 6, 16))
    updates = [q["sql"] for q in queries.captured_queries if 'UPDATE "billing_invoice"' in q["sql"]]
    assert len(updates) == (0 if connection.vendor == "postgresql" else 1), updates
    for sub in subs:
        sub.refresh_from_db()
        invoice = Invoice.objects.get(number=f"INV-20260616-P{sub.pk:05d}")
        assert (invoice.total, invoice.paid, invoice.payment_method_id) == (sub.billed_amount, 0, sub.payment_method_id)
        assert list(invoice.lines.values_list("amount", flat=True)) == [sub.billed_amount]


@pytest.mark.django_db(transaction=True)
def test_a_profiles_monthly_invoice_the_day_loop_makes_is_claimed_before_a_plan_changes_bill_can_make_it_too():
    """A billing profile's monthly invoice is made by the first line of its month, by the day loop or by a plan
    change's bill, whichever comes first, each in its own transaction. The day loop writes it (its key) as soon as it
    knows it makes it, before the rest of its work: a bill arriving meanwhile waits for it and joins it, instead of
    making the same invoice, which would fail the day loop's later write (a unique key) and stop the clock's move."""
    import threading

    from billing.invoicing import invoice_post_lines
    from billing.period_invoices import _Books
    from tests.factories import BillingProfileFactory, mca_subscription

    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer at a time: no two transactions make rows side by side")
    clock.set_date(date(2026, 6, 14))
    clock_move(actor="support", to=date(2026, 6, 15))
    profile = BillingProfileFactory(tenant=TenantFactory(domain="race.example", agreement="MCA"))
    sub = mca_subscription(profile, licenses=10, start_date=date(2026, 1, 16))
    reached, billed, errors = threading.Event(), threading.Event(), []
    real_post = _Books.post

    def post(books):  # the day loop has its invoices in hand: a plan change's bill comes now, in its own transaction
        reached.set()
        billed.wait(timeout=1)  # the bill waits on the day loop's invoice, if it was written already
        return real_post(books)

    def bill():
        reached.wait(timeout=10)
        try:
            with transaction.atomic():
                invoice_post_lines(tenant=profile.tenant, key=f"profile/{profile.pk}/2026-07", number="BP-RACE",
                                   issue_date=date(2026, 7, 1), due_date=date(2026, 7, 31), billing_profile=profile,
                                   lines=[{"description": "A plan change's charge", "amount": Decimal("20.00"),
                                           "idempotency_key": "race/charge"}], pay_by_card=False, actor="system")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            billed.set()
            connection.close()

    other = threading.Thread(target=bill)
    other.start()
    _Books.post = post
    try:
        moved = clock_move(actor="support", to=date(2026, 6, 16))
    finally:
        _Books.post = real_post
        other.join(timeout=20)
    assert errors == [] and [e["kind"] for e in moved["events"]] == ["invoice"]
    sub.refresh_from_db()
    invoice = Invoice.objects.get(period_key=f"profile/{profile.pk}/2026-07")
    assert sorted(invoice.lines.values_list("amount", flat=True)) == sorted([Decimal("20.00"), sub.billed_amount])
    assert invoice.total == sub.billed_amount + Decimal("20.00")
