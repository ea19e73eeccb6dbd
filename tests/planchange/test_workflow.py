"""The automatic change through its services, steps run in this process (the real-worker
tests are in test_worker_e2e.py): licenses, disabled plans, money to the cent."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Invoice, InvoiceLine, Subscription
from billing.services import invoice_pay
from licensing.models import LicenseAssignment
from planchange import steps, workflow
from planchange.inputs import Blocked
from planchange.models import PlanChange
from planchange.services import plan_change_cancel, plan_change_preview, plan_change_request
from portal import clock
from portal.errors import Conflict, DomainError
from simulation.moves import clock_move
from simulation.sweep import sweep_run
from tests.factories import (
    BillingProfileFactory,
    IncidentFactory,
    LicenseFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso(at_date):
    """The worked example's tenant: Business Standard P1Y monthly, 25 licenses, from 2026-01-01."""
    at_date("2026-06-16")
    tenant, card, std, users = mosa_standard(users=22)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5,
                                payment_method=card, term="P1M")
    first = users[0].licenses.get()
    first.disabled_plans = ["YAMMER_ENTERPRISE"]
    first.save()
    LicenseFactory(user=users[1], subscription=basic)
    admin = admin_of(tenant)
    return tenant, admin, std, basic, users


def run(change):
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    return change


def test_mosa_change_completes_exactly_as_the_worked_example(contoso):
    tenant, admin, std, basic, users = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    assert (change.status, change.licenses, change.term, change.billing_frequency) == ("queued", 25, "P1Y", "monthly")
    change = run(change)
    assert change.status == "completed"
    assert list(change.steps.values_list("name", "status")) == [
        (n, "done") for n in ("validate", "provision", "migrate_licenses", "bill", "cancel_source", "complete")]
    new = change.new_subscription
    assert (new.product.sku, new.licenses, new.term, new.billing_frequency, new.start_date, new.status) == (
        "SPB", 25, "P1Y", "monthly", date(2026, 6, 16), "active")
    std.refresh_from_db()
    assert (std.status, std.cancelled_on, std.recurring_billing) == ("cancelled", date(2026, 6, 16), False)
    # Every user moved, disabled plans reset and kept on the change; other licenses kept.
    assert LicenseAssignment.objects.filter(subscription=std).count() == 0
    assert sorted(LicenseAssignment.objects.filter(subscription=new).values_list("user__upn", flat=True)) == sorted(
        u.upn for u in users)
    assert all(a.disabled_plans == [] for a in LicenseAssignment.objects.filter(subscription=new))
    assert change.disabled_plans_before == {users[0].upn: ["YAMMER_ENTERPRISE"]}
    assert set(users[1].licenses.values_list("subscription_id", flat=True)) == {new.pk, basic.pk}
    # The invoice dated the completion day.
    invoice = change.invoice
    assert (invoice.date, invoice.total, invoice.paid) == (date(2026, 6, 16), Decimal("413.37"), Decimal("413.37"))
    assert [(line.amount, line.start, line.end, line.subscription_id) for line in invoice.lines.all()] == [
        (Decimal("-164.13"), date(2026, 6, 16), date(2026, 7, 1), std.pk),
        (Decimal("577.50"), date(2026, 6, 16), date(2026, 7, 16), new.pk),
    ]
    assert change.credit == Decimal("-164.13")
    verbs = list(tenant.events.filter(object_type="planchange.planchange", object_id=str(change.pk)).order_by("id").values_list("verb", flat=True))
    assert verbs == ["plan_change.requested", "plan_change.running", "plan_change.step.validate", "plan_change.step.provision",
                     "plan_change.step.migrate_licenses", "plan_change.step.bill", "plan_change.step.cancel_source",
                     "plan_change.step.complete"]


def test_preview_equals_the_invoice_to_the_cent(contoso):
    tenant, admin, std, *_ = contoso
    quote = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    assert (quote.effective_date, quote.credit, quote.charge, quote.total) == (
        date(2026, 6, 16), Decimal("-164.13"), Decimal("577.50"), Decimal("413.37"))
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB",
                                     quote_id=quote.pk))
    amounts = [str(line.amount) for line in change.invoice.lines.all()]
    assert amounts == [line["amount"] for line in quote.lines]
    assert change.invoice.total == quote.total


def test_a_stale_or_expired_quote_is_refused(contoso):
    tenant, admin, std, *_ = contoso
    quote = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    Subscription.objects.filter(pk=std.pk).update(licenses=26)
    with pytest.raises(Conflict) as exc:
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", quote_id=quote.pk)
    assert exc.value.code == "quote_stale"
    fresh = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    clock.advance(days=1)
    with pytest.raises(Conflict) as exc:
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", quote_id=fresh.pk)
    assert exc.value.code == "quote_expired"
    assert PlanChange.objects.count() == 0


def test_the_credit_line_is_unique_in_the_database(contoso):
    tenant, admin, std, *_ = contoso
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB"))
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(invoice=change.invoice, description="again", amount=Decimal("-164.13"),
                                   idempotency_key=f"plan_change/{change.pk}/credit")


def test_every_step_run_twice_changes_nothing_more(contoso):
    tenant, admin, std, *_ = contoso
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB"))
    snapshot = (Subscription.objects.count(), LicenseAssignment.objects.count(), InvoiceLine.objects.count(),
                Invoice.objects.count())
    for step in workflow.STEPS.values():
        step(change.pk)
    assert workflow.run(change.pk) == "completed"
    assert (Subscription.objects.count(), LicenseAssignment.objects.count(), InvoiceLine.objects.count(),
            Invoice.objects.count()) == snapshot


def test_a_change_blocked_between_request_and_run_fails_at_validate(contoso):
    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    IncidentFactory(tenant=tenant, service="sharepoint")
    before = (list(LicenseAssignment.objects.values_list("pk", "subscription_id")), Subscription.objects.count(),
              Invoice.objects.count())
    assert workflow.run(change.pk) == "failed"
    change.refresh_from_db()
    assert (change.status, change.error_code, change.blockers) == ("failed", "blocked", ["service_incident"])
    assert list(change.steps.values_list("name", "status")) == [
        ("validate", "failed"), ("provision", "skipped"), ("migrate_licenses", "skipped"), ("bill", "skipped"),
        ("cancel_source", "skipped"), ("complete", "skipped")]
    assert (list(LicenseAssignment.objects.values_list("pk", "subscription_id")), Subscription.objects.count(),
            Invoice.objects.count()) == before
    std.refresh_from_db()
    assert std.status == "active"


def test_too_few_licenses_is_a_clear_error_before_anything_starts(contoso):
    tenant, admin, std, *_ = contoso
    with pytest.raises(DomainError) as exc:
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", licenses=20)
    assert exc.value.code == "licenses_too_few"
    assert str(exc.value.detail) == ("22 users have licenses on the current plan; the new plan needs at least 22 "
                                     "licenses, not 20.")
    assert PlanChange.objects.count() == 0


def test_a_blocked_request_says_why(contoso):
    tenant, admin, std, *_ = contoso
    with pytest.raises(Blocked) as exc:
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="O365_BUSINESS")
    assert [b["code"] for b in exc.value.extra["blockers"]] == ["target_not_supported", "target_not_upgrade"]


def test_a_second_change_while_one_is_under_way_is_a_conflict(contoso):
    tenant, admin, std, *_ = contoso
    plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    with pytest.raises(Conflict):
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="ENTERPRISEPACK")


def test_a_mosa_change_cannot_wait_for_renewal(contoso):
    tenant, admin, std, *_ = contoso
    with pytest.raises(DomainError) as exc:
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", schedule="renewal")
    assert exc.value.code == "schedule_not_available"


@pytest.fixture
def fabrikam(at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing", tenant__name="Fabrikam")
    tenant = profile.tenant
    sub = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    for _ in range(10):
        LicenseFactory(subscription=sub)
    return tenant, admin_of(tenant), sub, profile


def test_mca_change_at_renewal_waits_then_runs_when_the_clock_gets_there(fabrikam):
    tenant, admin, sub, profile = fabrikam
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal", term="P1Y", billing_frequency="annual", licenses=15)
    assert (change.status, change.scheduled_for) == ("scheduled", date(2026, 10, 1))
    assert workflow.run(change.pk) == "not_runnable"
    assert sweep_run()["scheduled_started"] == []
    # The months on the way are billed on the profile's monthly invoices; the admin pays them as they come.
    clock_move(actor="support", to=date(2026, 9, 30))
    for invoice in Invoice.objects.filter(tenant=tenant, date__lte=clock.today()).exclude(total=F("paid")):
        invoice_pay(tenant=tenant, invoice_id=invoice.pk, actor="admin")
    clock.set_date(date(2026, 10, 1))
    assert sweep_run()["scheduled_started"] == [change.pk]  # the sweep runs it on its day, before billing
    change.refresh_from_db()
    assert change.status == "completed"
    new = change.new_subscription
    assert (new.start_date, new.licenses, new.term, new.billing_frequency, new.billing_profile) == (
        date(2026, 10, 1), 15, "P1Y", "annual", profile)
    # At renewal the old term has run out: no credit. The year is charged on November's invoice.
    invoice = change.invoice
    assert (invoice.number, invoice.date, invoice.billing_profile) == (f"BP{profile.pk}-202611", date(2026, 11, 1),
                                                                       profile)
    assert [(line.amount, line.start, line.end) for line in invoice.lines.all()] == [
        (Decimal("3960.00"), date(2026, 10, 1), date(2027, 10, 1))]  # 22.00 × 15 × 12
    assert change.credit == 0


def test_mca_immediate_change_lands_on_next_months_invoice(fabrikam):
    tenant, admin, sub, profile = fabrikam
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB"))
    invoice = change.invoice
    assert (invoice.date, invoice.due_date) == (date(2026, 7, 1), date(2026, 7, 31))
    # 12 × 13.13 × 16/30 = 84.032 → credit 84.03; 12 × 23.10 = 277.20
    assert [str(line.amount) for line in invoice.lines.all()] == ["-84.03", "277.20"]
    assert invoice.total == Decimal("193.17")


def test_a_scheduled_change_can_be_cancelled_before_it_runs(fabrikam):
    tenant, admin, sub, _ = fabrikam
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    plan_change_cancel(tenant=tenant, change_id=change.pk, actor="a")
    change.refresh_from_db()
    assert change.status == "cancelled"
    clock.set_date(date(2026, 10, 1))
    assert sweep_run()["scheduled_started"] == []
    with pytest.raises(Conflict):
        plan_change_cancel(tenant=tenant, change_id=change.pk, actor="a")


def test_turning_recurring_billing_off_cancels_the_scheduled_change(fabrikam):
    from billing.services import subscription_update

    tenant, admin, sub, _ = fabrikam
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    subscription_update(tenant=tenant, subscription_id=sub.pk, actor="a", recurring_billing=False)
    change.refresh_from_db()
    assert change.status == "cancelled"
    event = tenant.events.get(verb="plan_change.cancelled")
    assert event.data["reason"] == "recurring billing was turned off, so the subscription won't renew"


def test_an_immediate_change_replaces_a_scheduled_one(fabrikam):
    tenant, admin, sub, _ = fabrikam
    scheduled = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB",
                                    schedule="renewal")
    now = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="ENTERPRISEPACK")
    scheduled.refresh_from_db()
    assert (scheduled.status, now.status) == ("cancelled", "queued")
    assert tenant.events.get(verb="plan_change.cancelled").data["reason"] == "replaced by an immediate plan change"


def _billed_annually(std):
    """Business Standard paid a year at a time (USD 3,750.00 for 2026): an upgrade late in the year to a plan billed
    monthly credits more than the new month costs."""
    Subscription.objects.filter(pk=std.pk).update(billing_frequency="annual", billed_until=date(2027, 1, 1),
                                                   billed_amount=None)


def test_a_net_credit_paid_by_card_is_refunded_to_the_card_five_days_later(contoso, client):
    tenant, admin, std, basic, users = contoso
    _billed_annually(std)
    client.force_login(admin)
    clock.set_date(date(2026, 10, 21))
    up = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", licenses=25,
                                 term="P1M"))
    credit_invoice = up.invoice
    # 3,750.00 × 72/365 = 739.73 credit, 25 × 26.40 = 660.00 charge: a net credit of 79.73, back to the card.
    assert [(line.description, line.amount) for line in credit_invoice.lines.order_by("pk")] == [
        ("Credit for 72 unused days of Microsoft 365 Business Standard (25 licenses)", Decimal("-739.73")),
        ("Microsoft 365 Business Premium (25 licenses), 2026-10-21 to 2026-11-21", Decimal("660.00"))]
    assert (credit_invoice.total, credit_invoice.refund, credit_invoice.refund_on, credit_invoice.payment_method) == (
        Decimal("-79.73"), Decimal("79.73"), date(2026, 10, 26), std.payment_method)
    assert (credit_invoice.status_on(clock.today()), credit_invoice.credit_left) == ("credit", 0)
    page = page_text(client.get(f"/billing/invoices/{credit_invoice.pk}/"))
    assert "Payment USD 79.73 will be refunded to the card ending 4242 on 2026-10-26." in page
    clock_move(actor="support", to=date(2026, 11, 8))
    credit_invoice.refresh_from_db()
    assert (credit_invoice.refunded, credit_invoice.status_on(clock.today())) == (True, "refunded")
    page = page_text(client.get(f"/billing/invoices/{credit_invoice.pk}/"))
    assert "Refunded" in page and "Payment USD 79.73 refunded to the card ending 4242 on 2026-10-26." in page
    refunded = tenant.events.get(verb="invoice.refunded")
    assert (refunded.data, refunded.occurred_at.date()) == (
        {"number": credit_invoice.number, "amount": "79.73", "card": "4242"}, date(2026, 10, 26))
    again = run(plan_change_request(tenant=tenant, user=admin, subscription_id=up.new_subscription_id,
                                    target_sku="ENTERPRISEPACK"))
    # Refunded, so nothing is left to apply to the next invoice. Premium's month runs 10-21..11-21.
    assert [(line.description, str(line.amount)) for line in again.invoice.lines.all()] == [
        ("Credit for 13 unused days of Microsoft 365 Business Premium (25 licenses)", "-276.77"),
        ("Office 365 E3 (25 licenses), 2026-11-08 to 2026-12-08", "690.00"),
    ]


def test_a_net_credit_of_an_invoice_payer_is_applied_to_the_next_invoice(contoso):
    tenant, admin, std, basic, users = contoso
    _billed_annually(std)
    Subscription.objects.filter(pk=std.pk).update(payment="invoice", payment_method=None)
    clock.set_date(date(2026, 10, 21))
    up = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", licenses=25,
                                 term="P1M"))
    credit_invoice = up.invoice
    assert (credit_invoice.total, credit_invoice.status_on(clock.today())) == (Decimal("-79.73"), "credit")
    assert (credit_invoice.paid, credit_invoice.refund, credit_invoice.credit_left) == (0, 0, Decimal("79.73"))
    clock.set_date(date(2026, 11, 8))
    again = run(plan_change_request(tenant=tenant, user=admin, subscription_id=up.new_subscription_id,
                                    target_sku="ENTERPRISEPACK"))
    lines = [(line.description, str(line.amount)) for line in again.invoice.lines.all()]
    # Premium's month runs 10-21..11-21: credit 660.00 × 13/31 = 276.77; E3 charge 25 × 27.60 = 690.00;
    # the account credit last.
    assert lines == [
        ("Credit for 13 unused days of Microsoft 365 Business Premium (25 licenses)", "-276.77"),
        ("Office 365 E3 (25 licenses), 2026-11-08 to 2026-12-08", "690.00"),
        (f"Account credit from invoice {credit_invoice.number}", "-79.73"),
    ]
    assert again.invoice.total == Decimal("333.50")
    credit_invoice.refresh_from_db()
    assert credit_invoice.credit_left == 0


def test_users_keep_their_old_service_until_the_licenses_move(contoso):
    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    for name in ("validate", "provision"):
        assert workflow._claim(change.pk, name)
        workflow.STEPS[name](change.pk)
    assert LicenseAssignment.objects.filter(subscription=std).count() == 22


def test_migration_in_small_batches_never_leaves_a_user_unlicensed(contoso, settings):
    tenant, admin, std, *_ = contoso
    settings.PLANCHANGE_MIGRATE_BATCH = 5
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    change = run(change)
    assert LicenseAssignment.objects.filter(subscription=change.new_subscription).count() == 22
    assert change.steps.get(name="migrate_licenses").status == "done"


def test_batches_keyed_by_the_last_id_keep_every_users_turned_off_plans(contoso, settings):
    """Several batches, each user's disabled plans kept exactly (gathered once at the end of the step
    from the batches' audit events), the users who already held the target keep that license."""
    tenant, admin, std, basic, users = contoso
    for i, user in enumerate(users[:12]):
        LicenseAssignment.objects.filter(user=user, subscription=std).update(
            disabled_plans=["YAMMER_ENTERPRISE", "SHAREPOINTSTANDARD"][: 1 + i % 2])
    settings.PLANCHANGE_MIGRATE_BATCH = 4
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB"))
    assert change.disabled_plans_before == {
        u.upn: sorted(["YAMMER_ENTERPRISE", "SHAREPOINTSTANDARD"][: 1 + i % 2]) for i, u in enumerate(users[:12])}
    moved = tenant.events.filter(verb="licenses.moved", data__by=change.holder).order_by("pk")
    assert [e.data["count"] for e in moved] == [4, 4, 4, 4, 4, 2]
    assert sorted(upn for e in moved for upn in e.data["users"]) == sorted(u.upn for u in users)
    new = change.new_subscription
    assert (new.assigned_licenses, LicenseAssignment.objects.filter(subscription=new).count()) == (22, 22)
    assert not LicenseAssignment.objects.filter(subscription=new).exclude(disabled_plans=[]).exists()


def test_a_batch_keeps_the_target_license_of_users_who_already_hold_it(at_date):
    """The plain INSERT … SELECT meets the unique user × subscription: the batch skips those holders
    instead (their license and its settings kept), moves the rest, and counts each once."""
    from licensing.services import licenses_move_batch

    at_date("2026-06-16")
    tenant, card, std, users = mosa_standard(users=6, licenses=6)
    target = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=6, payment_method=card)
    LicenseFactory(user=users[2], subscription=target, disabled_plans=["YAMMER_ENTERPRISE"])
    batch = licenses_move_batch(tenant=tenant, from_subscription_id=std.pk, to_subscription_id=target.pk,
                                limit=100, holder="plan_change/0", actor="system")
    assert (batch.moved, batch.left) == (6, 0)
    target.refresh_from_db()
    assert (target.assigned_licenses, LicenseAssignment.objects.filter(subscription=target).count()) == (6, 6)
    assert LicenseAssignment.objects.get(subscription=target, user=users[2]).disabled_plans == ["YAMMER_ENTERPRISE"]
    assert not LicenseAssignment.objects.filter(subscription=std).exists()


@pytest.mark.parametrize("size", [5, 50])
def test_a_batch_moves_its_users_set_based_in_the_same_queries_whatever_their_number(at_date, size):
    """No query (nor object) per user: a batch of 50 runs exactly the queries of a batch of 5."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licensing.services import licenses_move_batch

    at_date("2026-06-16")
    counts = []
    for users in (size, size * 2):
        tenant, card, std, _users = mosa_standard(users=users, licenses=users, domain=f"t{users}.example")
        target = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=users, payment_method=card)
        with CaptureQueriesContext(connection) as ctx:
            batch = licenses_move_batch(tenant=tenant, from_subscription_id=std.pk, to_subscription_id=target.pk,
                                        limit=1000, holder="plan_change/0", actor="system")
        assert (batch.moved, batch.left) == (users, 0)
        assert LicenseAssignment.objects.filter(subscription=target).count() == users
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_another_tenants_subscription_is_not_found(contoso):
    tenant, admin, *_ = contoso
    from django.http import Http404

    other = SubscriptionFactory()
    with pytest.raises((Http404, DomainError)):
        plan_change_request(tenant=tenant, user=admin, subscription_id=other.pk, target_sku="SPB")
    assert PlanChange.objects.count() == 0


def test_a_payment_method_of_another_tenant_is_refused(contoso):
    tenant, admin, std, *_ = contoso
    foreign = PaymentMethodFactory(last4="9999")
    with pytest.raises(DomainError) as exc:
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB",
                            payment_method=foreign.pk)
    assert exc.value.code == "unknown_payment_method"






def test_the_subscription_page_shows_the_change_and_offers_no_edits(client, contoso):
    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    workflow._claim(change.pk, "validate")
    workflow.step_validate(change.pk)
    client.force_login(admin)
    page = client.get(f"/billing/products/{std.pk}/")
    body = page_text(page)
    assert "Change to Microsoft 365 Business Premium Running" in body
    assert "Validate — Done" in body and "Provision the new subscription — Pending" in body
    assert "A plan change of this subscription is in progress." in body
    assert 'aria-disabled="true" data-testid="upgrades-link"' in page.content.decode()
    assert client.get("/billing/products/").status_code == 200  # the rest of the portal works
    assert client.get("/users/").status_code == 200


def test_the_new_subscription_shows_the_disabled_plans_that_were_reset(client, contoso):
    tenant, admin, std, _basic, users = contoso
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB"))
    client.force_login(admin)
    body = page_text(client.get(f"/billing/products/{change.new_subscription_id}/"))
    assert "Services turned back on by the plan change" in body
    assert f"{users[0].upn} : Viva Engage" in body  # the catalog's name, not the plan's code


def test_a_scheduled_change_is_shown_and_cancelled_on_the_page(client, fabrikam):
    tenant, admin, sub, _ = fabrikam
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    client.force_login(admin)
    body = page_text(client.get(f"/billing/products/{sub.pk}/"))
    assert "Scheduled for the renewal on 2026-10-01, with 12 licenses." in body
    response = client.post(f"/billing/products/{sub.pk}/changes/{change.pk}/cancel/", follow=True)
    assert "The scheduled change was cancelled." in page_text(response)
    change.refresh_from_db()
    assert change.status == "cancelled"


def test_a_transient_error_releases_the_step_for_an_immediate_retry(contoso, monkeypatch):
    from django.db import OperationalError

    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    real_bill = workflow.STEPS["bill"]
    calls = []

    def flaky(change_id):
        calls.append(change_id)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_bill(change_id)

    monkeypatch.setitem(workflow.STEPS, "bill", flaky)
    with pytest.raises(OperationalError):
        workflow.run(change.pk)
    step = change.steps.get(name="bill")
    assert (step.status, step.attempts) == ("running", 1)
    assert step.lease_until <= timezone.now()  # released: the retry needn't wait for the lease
    assert workflow.run(change.pk) == "completed"
    assert change.steps.get(name="bill").attempts == 2
    assert InvoiceLine.objects.filter(idempotency_key=f"plan_change/{change.pk}/credit").count() == 1


def test_a_bug_after_licenses_moved_stops_the_change_for_support(contoso, monkeypatch):
    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")

    def broken(change_id):
        raise ValueError("no exchange rate")

    monkeypatch.setitem(workflow.STEPS, "bill", broken)
    assert workflow.run(change.pk) == "failed"
    change.refresh_from_db()
    # Licenses already moved: it doesn't roll back or pretend, it waits for support staff.
    assert (change.status, change.error_code) == ("running", "step_failed")
    assert change.error_detail == "bill: ValueError: no exchange rate"
    assert change.steps.get(name="bill").status == "failed"
    assert LicenseAssignment.objects.filter(subscription=change.new_subscription).count() == 22
    assert tenant.events.filter(verb="plan_change.stuck").count() == 1
    assert sweep_run()["requeued"] == []  # a failed step is not retried blindly


def test_a_bug_before_licenses_move_fails_the_change_cleanly(contoso, monkeypatch):
    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")

    def broken(change_id):
        raise RuntimeError("catalog unreachable")

    monkeypatch.setitem(workflow.STEPS, "provision", broken)
    assert workflow.run(change.pk) == "failed"
    change.refresh_from_db()
    assert (change.status, change.error_code) == ("failed", "error")
    assert change.new_subscription_id is None
    assert LicenseAssignment.objects.filter(subscription=std).count() == 22


def test_a_step_gives_up_after_its_attempts(contoso):
    tenant, admin, std, *_ = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    change.steps.filter(name="validate").update(status="running", attempts=workflow.MAX_ATTEMPTS,
                                                lease_until=timezone.now())
    assert workflow.run(change.pk) == "failed"
    change.refresh_from_db()
    assert (change.status, change.error_code) == ("failed", "error")
    assert change.error_detail == "GaveUp: gave up after 10 attempts"
    assert change.steps.get(name="validate").status == "failed"


def test_the_task_retries_only_transient_errors_with_bounded_backoff():
    from planchange.tasks import run_change

    assert set(run_change.autoretry_for) == set(workflow.TRANSIENT)
    assert (run_change.max_retries, run_change.retry_backoff_max, run_change.acks_late) == (8, 60, True)
    assert run_change.name == "planchange.run_change"


def test_old_unused_quotes_are_swept_and_used_ones_kept(contoso):
    from planchange.models import Quote

    tenant, admin, std, *_ = contoso
    unused = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB", licenses=30)
    used = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", quote_id=used.pk)
    assert sweep_run()["quotes_expired"] == 0
    clock.advance(days=2)
    assert sweep_run()["quotes_expired"] == 1
    assert list(Quote.objects.values_list("pk", flat=True)) == [used.pk]
    assert unused.pk != used.pk


def test_the_same_preview_reuses_its_quote_while_most_of_its_validity_is_left(contoso, settings):
    tenant, admin, std, *_ = contoso
    first = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    assert plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB").pk == first.pk
    other = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB", licenses=26)
    assert other.pk != first.pk
    from planchange.models import Quote

    Quote.objects.filter(pk=first.pk).update(expires_at=clock.now() + timedelta(minutes=10))  # 20 minutes later
    renewed = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    assert renewed.pk != first.pk and renewed.total == first.total


def test_the_own_change_is_not_listed_as_a_blocker_on_its_page(client, contoso):
    tenant, admin, std, *_ = contoso
    plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    client.force_login(admin)
    response = client.get(f"/billing/products/{std.pk}/")
    assert "Change to Microsoft 365 Business Premium" in page_text(response)
    assert 'data-testid="why-panel"' not in response.content.decode()
    assert "not available while this subscription's change is under way." in page_text(response)


def test_step_delay_makes_every_step_wait_that_long(contoso, settings, monkeypatch):
    """PLANCHANGE_STEP_DELAY (demo pacing): each step pauses for it; license moves pause per batch."""
    tenant, admin, std, *_ = contoso
    settings.PLANCHANGE_STEP_DELAY = 0.7
    settings.PLANCHANGE_MIGRATE_BATCH = 10
    pauses = []
    monkeypatch.setattr(steps, "_pause", pauses.append)
    change = run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB"))
    assert change.status == "completed"
    assert pauses == [0.7] * (5 + 2)  # five steps, and between the three batches of up to 10 of the 22 users
