"""Time passes as it does for a real tenant (DESIGN.md "Time and the subscription lifecycle").

Stories in Kill Bill's manner: set the clock, act, move the clock as support staff do, assert the
exact invoices, statuses and events.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from billing.models import Invoice, InvoicePayer, Subscription
from billing.services import subscription_recurring_billing_set
from licensing.models import LicenseAssignment
from planchange.services import plan_change_preview, plan_change_request
from portal import clock
from portal.models import Event
from simulation.moves import clock_move
from tests.factories import (
    BillingProfileFactory,
    CreditCheckFactory,
    LicenseFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
    product,
)
from tests.helpers import move

pytestmark = pytest.mark.django_db



def invoices(tenant) -> list[tuple]:
    return [(i.number, i.date.isoformat(), i.due_date.isoformat(), str(i.total), str(i.paid), i.status_on(clock.today()),
             [(line.description, str(line.amount)) for line in i.lines.all()])
            for i in Invoice.objects.filter(tenant=tenant).prefetch_related("lines").order_by("date", "pk")]


def test_a_mosa_monthly_subscription_is_invoiced_on_each_periods_first_day(at_date):
    at_date("2026-06-15")
    tenant, card, _, _ = mosa_standard()
    sub = SubscriptionFactory(tenant=tenant, licenses=25, payment_method=card, start_date=date(2026, 1, 15))
    Subscription.objects.exclude(pk=sub.pk).update(status="cancelled", billed_until=None)  # only the one
    moved = move("2026-09-15")
    # Business Standard P1Y billed monthly: 25 × 13.13 (12.50 + 5 %) = 328.25 a month, an invoice on the
    # 15th of Jul, Aug and Sep; the card is charged the day after, so September's is still open today.
    line = "Microsoft 365 Business Standard (25 licenses), {} to {}"
    n = f"{sub.pk:05d}"
    assert invoices(tenant) == [
        (f"INV-20260715-P{n}", "2026-07-15", "2026-07-16", "328.25", "328.25", "paid",
         [(line.format("2026-07-15", "2026-08-15"), "328.25")]),
        (f"INV-20260815-P{n}", "2026-08-15", "2026-08-16", "328.25", "328.25", "paid",
         [(line.format("2026-08-15", "2026-09-15"), "328.25")]),
        (f"INV-20260915-P{n}", "2026-09-15", "2026-09-16", "328.25", "0.00", "unpaid",
         [(line.format("2026-09-15", "2026-10-15"), "328.25")]),
    ]
    assert [(e["date"], e["kind"]) for e in moved["events"]] == [
        ("2026-07-15", "invoice"), ("2026-07-16", "payment"), ("2026-08-15", "invoice"), ("2026-08-16", "payment"),
        ("2026-09-15", "invoice")]
    move("2026-09-16")
    assert invoices(tenant)[-1][4:6] == ("328.25", "paid")
    assert tenant.events.filter(verb="invoice.paid").count() == 3
    sub.refresh_from_db()
    assert sub.billed_until == date(2026, 10, 15)


def test_an_mca_profile_gets_one_monthly_invoice_with_every_subscriptions_lines(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="fabrikam.example")
    profile = BillingProfileFactory(tenant=tenant, name="Fabrikam billing", payment="invoice", payment_habit="never")
    premium = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=12, billing_profile=profile,
                                  payment="invoice")
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5, term="P1M",
                                billing_profile=profile, payment="invoice")
    move("2026-09-15")
    # Periods start on the 1st; each month's lines go on the profile's invoice of the next 1st, net 30.
    premium_line = "Microsoft 365 Business Premium (12 licenses), {} to {}"  # 12 × 23.10 = 277.20
    basic_line = "Microsoft 365 Business Basic (5 licenses), {} to {}"  # 5 × 7.20 = 36.00
    month = [("2026-07-01", "2026-08-01"), ("2026-08-01", "2026-09-01"), ("2026-09-01", "2026-10-01")]
    assert invoices(tenant) == [
        (f"BP{profile.pk}-202608", "2026-08-01", "2026-08-31", "313.20", "0.00", "overdue",
         [(premium_line.format(*month[0]), "277.20"), (basic_line.format(*month[0]), "36.00")]),
        (f"BP{profile.pk}-202609", "2026-09-01", "2026-10-01", "313.20", "0.00", "unpaid",
         [(premium_line.format(*month[1]), "277.20"), (basic_line.format(*month[1]), "36.00")]),
        (f"BP{profile.pk}-202610", "2026-10-01", "2026-10-31", "313.20", "0.00", "upcoming",
         [(premium_line.format(*month[2]), "277.20"), (basic_line.format(*month[2]), "36.00")]),
    ]
    # A month-to-month subscription renews every month; the yearly one doesn't until January.
    assert tenant.events.filter(verb="subscription.renewed", object_id=str(basic.pk)).count() == 3
    assert not tenant.events.filter(verb="subscription.renewed", object_id=str(premium.pk)).exists()
    # Unpaid past its due date (this profile never pays): the article's unpaid-balance blocker stops plan changes.
    overdue = tenant.events.get(verb="invoice.overdue")
    assert (overdue.data["number"], overdue.occurred_at.date()) == (f"BP{profile.pk}-202608", date(2026, 9, 1))


def test_annual_billing_charges_the_year_at_once_each_year(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="yearly.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(tenant=tenant, product=product("ENTERPRISEPACK"), licenses=10, payment_method=card,
                              billing_frequency="annual", start_date=date(2026, 3, 1))
    moved = move("2028-06-15")
    # Office 365 E3 P1Y billed annually: 10 × 23.00 × 12 = 2760.00, once a year on the anniversary.
    assert [(number, day, total, status) for number, day, _, total, _, status, _ in invoices(tenant)] == [
        (f"INV-20270301-P{sub.pk:05d}", "2027-03-01", "2760.00", "paid"),
        (f"INV-20280301-P{sub.pk:05d}", "2028-03-01", "2760.00", "paid"),
    ]
    assert [(e["date"], e["kind"]) for e in moved["events"]] == [
        ("2027-03-01", "renewal"), ("2027-03-01", "invoice"), ("2027-03-02", "payment"),
        ("2028-03-01", "renewal"), ("2028-03-01", "invoice"), ("2028-03-02", "payment")]


def test_recurring_billing_off_expires_then_disables_then_deletes_and_only_then_removes_licenses(at_date):
    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=3)
    subscription_recurring_billing_set(tenant=tenant, subscription_id=sub.pk, enabled=False, actor="admin")

    def state():
        sub.refresh_from_db()
        return (sub.status, sub.status_until and sub.status_until.isoformat(), sub.users_access,
                LicenseAssignment.objects.filter(subscription=sub).count())

    move("2026-12-31")
    assert state() == ("active", None, "full", 3)
    move("2027-01-01")  # the term ends: Expired for 30 days, users keep service
    assert state() == ("expired", "2027-01-31", "full", 3)
    assert Invoice.objects.filter(tenant=tenant, date__gte=date(2027, 1, 1)).count() == 0  # not renewed
    move("2027-01-31")  # Disabled for 90 days: only admins reach the data, licenses still there
    assert state() == ("disabled", "2027-05-01", "admins_only", 3)
    move("2027-04-30")
    assert state() == ("disabled", "2027-05-01", "admins_only", 3)
    moved = move("2027-05-01")  # Deleted: the licenses are removed from users, audited
    assert state() == ("deleted", None, "none", 0)
    assert [(e["kind"], e["detail"]) for e in moved["events"]] == [
        ("deleted", "Deleted: 3 licenses removed from users; the data is gone.")]
    removed = tenant.events.get(verb="licenses.removed")
    assert (removed.data["count"], removed.data["users"]) == (3, sorted(u.upn for u in users))
    assert [e.verb for e in tenant.events.filter(object_id=str(sub.pk), verb__startswith="subscription.")
            .order_by("occurred_at", "id")][-3:] == [
        "subscription.expired", "subscription.disabled", "subscription.deleted"]


def test_an_expired_subscription_is_reactivated_by_turning_recurring_billing_back_on(at_date):
    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=2)
    subscription_recurring_billing_set(tenant=tenant, subscription_id=sub.pk, enabled=False, actor="admin")
    move("2027-01-10")
    sub.refresh_from_db()
    assert sub.status == "expired"
    subscription_recurring_billing_set(tenant=tenant, subscription_id=sub.pk, enabled=True, actor="admin")
    sub.refresh_from_db()
    # Active again with a new term from today, its first month charged now (the card the day after).
    assert (sub.status, sub.start_date, sub.billed_until, sub.status_until, sub.recurring_billing) == (
        "active", date(2027, 1, 10), date(2027, 2, 10), None, True)
    assert invoices(tenant)[-1][:5] == (f"INV-20270110-P{sub.pk:05d}", "2027-01-10", "2027-01-11", "328.25", "0.00")
    assert LicenseAssignment.objects.filter(subscription=sub).count() == 2
    move("2027-02-10")
    assert [i[1] for i in invoices(tenant)][-2:] == ["2027-01-10", "2027-02-10"]


def test_cancelling_mid_term_goes_straight_to_disabled_with_the_unused_days_credited(at_date):
    from billing.services import subscription_cancel

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    cancelled = subscription_cancel(tenant=tenant, subscription_id=sub.pk, actor="admin")
    # MOSA: the unused 16 of June's 30 days credited, as a plan change would: 328.25 × 16/30 = 175.07,
    # refunded to the card five days after the invoice.
    assert (cancelled.credit_line.description, cancelled.credit_line.amount) == (
        "Credit for 16 unused days of Microsoft 365 Business Standard (25 licenses)", Decimal("-175.07"))
    invoice = cancelled.credit_line.invoice
    assert (invoice.total, invoice.refund, invoice.refund_on) == (Decimal("-175.07"), Decimal("175.07"),
                                                                   date(2026, 6, 20))
    sub.refresh_from_db()
    # Disabled for 90 days; nothing is billed any more.
    assert (sub.status, sub.status_until, sub.billed_until) == ("disabled", date(2026, 9, 13), date(2026, 6, 15))
    move("2026-09-13")
    sub.refresh_from_db()
    assert sub.status == "deleted"
    assert list(Invoice.objects.filter(tenant=tenant).values_list("number", flat=True)) == [invoice.number]


def test_cancelled_then_reactivated_is_never_charged_twice_for_the_same_days(at_date):
    from billing.services import subscription_cancel

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    subscription_cancel(tenant=tenant, subscription_id=sub.pk, actor="admin")  # 06-15..07-01 credited
    move("2026-06-20")
    subscription_recurring_billing_set(tenant=tenant, subscription_id=sub.pk, enabled=True, actor="admin")
    sub.refresh_from_db()
    # A new term from 06-20, charged from 06-20: the days credited are charged once again, no more.
    assert (sub.status, sub.start_date, sub.billed_until) == ("active", date(2026, 6, 20), date(2026, 7, 20))
    assert [(i[1], i[3]) for i in invoices(tenant)] == [("2026-06-15", "-175.07"), ("2026-06-20", "328.25")]


def test_a_subscription_cancelled_without_a_credit_resumes_within_its_paid_period(at_date):
    from billing.services import subscription_cancel

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    Subscription.objects.filter(pk=sub.pk).update(source="product_key")  # prepaid: no credit
    subscription_cancel(tenant=tenant, subscription_id=sub.pk, actor="admin")
    move("2026-06-20")
    subscription_recurring_billing_set(tenant=tenant, subscription_id=sub.pk, enabled=True, actor="admin")
    sub.refresh_from_db()
    assert (sub.status, sub.start_date, sub.billed_until) == ("active", date(2026, 1, 1), date(2026, 7, 1))
    assert tenant.events.get(verb="subscription.reactivated").data == {
        "from": "disabled", "resumed": True, "billed_until": "2026-07-01"}
    assert not Invoice.objects.filter(tenant=tenant).exists()


def test_cancel_rules_mosa_over_25_licenses_and_mca_after_7_days(at_date):
    from billing.services import subscription_cancel
    from portal.errors import Conflict

    at_date("2026-06-15")
    tenant, card, big, _ = mosa_standard(licenses=26)
    with pytest.raises(Conflict) as refused:
        subscription_cancel(tenant=tenant, subscription_id=big.pk, actor="admin")
    assert (refused.value.code, refused.value.extra["max_licenses"]) == ("cancel_too_many_licenses", 25)
    mca = TenantFactory(agreement="MCA", domain="window.example")
    profile = BillingProfileFactory(tenant=mca, payment="invoice")
    late = SubscriptionFactory(tenant=mca, licenses=5, billing_profile=profile, payment="invoice")  # since 01-01
    with pytest.raises(Conflict) as refused:
        subscription_cancel(tenant=mca, subscription_id=late.pk, actor="admin")
    assert (refused.value.code, refused.value.extra["alternative"]) == ("cancel_window_closed",
                                                                       "turn_off_recurring_billing")
    fresh = SubscriptionFactory(tenant=mca, licenses=5, billing_profile=profile, payment="invoice",
                                start_date=date(2026, 6, 10))  # 5 days ago: within the window
    cancelled = subscription_cancel(tenant=mca, subscription_id=fresh.pk, actor="admin")
    # P1Y billed monthly: 5 × 13.13 = 65.65 for 06-10..07-10, 25 of 30 days unused: 54.71, account credit
    # on the profile's July invoice.
    assert (cancelled.credit_line.amount, cancelled.credit_line.invoice.number) == (
        Decimal("-54.71"), f"BP{profile.pk}-202607")


def test_a_credit_after_a_clock_jump_never_exceeds_what_was_invoiced_for_that_period(at_date):
    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=5)
    # The jump that used to break it: to 10-01 without anything billed, then a change credited 31 unused
    # days of October. Now October is invoiced on 10-01 and the credit is at most that charge.
    move("2026-10-01")
    october = Invoice.objects.get(tenant=tenant, date=date(2026, 10, 1))
    quote = plan_change_preview(tenant=tenant, subscription_id=sub.pk, target_sku="SPB")
    assert (october.total, -quote.credit) == (Decimal("328.25"), Decimal("328.25"))
    assert quote.lines[0]["description"] == "Credit for 31 unused days of Microsoft 365 Business Standard (25 licenses)"


def test_no_credit_for_a_period_that_was_never_invoiced(at_date):
    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=5)
    # Real time reached November before any sweep billed it (the clock set directly, no day loop):
    clock.set_date(date(2026, 11, 1))
    quote = plan_change_preview(tenant=tenant, subscription_id=sub.pk, target_sku="SPB")
    # Nothing credited; the four months used and never billed (July to October) are charged instead.
    assert (quote.credit, [(line["kind"], line["amount"]) for line in quote.lines]) == (
        Decimal("0.00"), [("used", "1313.00"), ("charge", "577.50")])


@pytest.fixture
def world(at_date):
    """Several tenants whose two years hold every kind of happening."""
    at_date("2026-06-15")
    mosa, card, monthly, _ = mosa_standard(users=3, domain="mosa.example")
    ending = SubscriptionFactory(tenant=mosa, product=product("O365_BUSINESS_ESSENTIALS"), licenses=4,
                                 payment_method=card, recurring_billing=False, start_date=date(2026, 2, 1))
    for _ in range(2):
        LicenseFactory(subscription=ending)
    yearly = TenantFactory(domain="yearly.example")
    InvoicePayer.objects.create(tenant=yearly, payment_habit="never")  # its invoice of 2027-03-01 falls past due
    SubscriptionFactory(tenant=yearly, product=product("ENTERPRISEPACK"), licenses=10, payment="invoice",
                        billing_frequency="annual", start_date=date(2026, 3, 1))
    CreditCheckFactory(tenant=yearly, requested=date(2026, 6, 12))
    mca = TenantFactory(agreement="MCA", domain="mca.example")
    profile = BillingProfileFactory(tenant=mca, payment="invoice")
    std = SubscriptionFactory(tenant=mca, licenses=12, billing_profile=profile, payment="invoice",
                              start_date=date(2025, 10, 1))
    for _ in range(10):
        LicenseFactory(subscription=std)
    change = plan_change_request(tenant=mca, user=admin_of(mca), subscription_id=std.pk, target_sku="SPB",
                                 schedule="renewal")
    assert change.scheduled_for == date(2026, 10, 1)
    SubscriptionFactory(tenant=mca, product=product("EXCHANGESTANDARD"), licenses=2, billing_profile=profile,
                        payment="invoice", provisioning="provisioning",
                        provisioning_until=clock.now().replace(year=2026, month=6, day=16))


# Event data that names rows by id: PostgreSQL's sequences don't roll back, so a world made again gets other ids.
ID_KEYS = ("from", "to", "quote", "invoice", "new_subscription", "into")


def snapshot() -> dict:
    """Everything time touches, by natural keys (ids of rolled-back rows may differ)."""
    return {
        "invoices": [(i.tenant.domain, i.number, i.date, i.due_date, i.total, i.paid, i.refund, i.refunded,
                      [(line.description, line.amount, line.start, line.end) for line in i.lines.all()])
                     for i in Invoice.objects.select_related("tenant").prefetch_related("lines").order_by("number")],
        "subscriptions": list(Subscription.objects.order_by("tenant__domain", "product__sku", "start_date").values_list(
            "tenant__domain", "product__sku", "status", "status_until", "billed_until", "start_date", "provisioning",
            "assigned_licenses")),
        "licenses": LicenseAssignment.objects.count(),
        "events": sorted((e.tenant.domain if e.tenant else "", e.verb, e.occurred_at.date(), repr(sorted(
            (k, v) for k, v in e.data.items() if k not in ID_KEYS)))
            for e in Event.objects.select_related("tenant").exclude(verb="clock.advanced")),
        "today": clock.today(),
    }


def test_a_dry_run_lists_two_years_in_order_and_changes_nothing_then_the_real_jump_does_exactly_that(world):
    before = snapshot()
    dry = move("2028-06-15", dry_run=True)
    assert snapshot() == before
    assert clock.today() == date(2026, 6, 15)
    kinds = {e["kind"] for e in dry["events"]}
    assert kinds >= {"provisioned", "credit_check", "plan_change", "renewal", "invoice", "payment", "expired",
                     "disabled", "deleted", "overdue", "invoice_payment"}
    days = [e["date"] for e in dry["events"]]
    assert days == sorted(days)
    real = move("2028-06-15")
    assert real["events"] == dry["events"]
    assert snapshot() != before
    # On a boundary day, billing comes before termination: the subscription ending 2027-02-01 gets no
    # invoice that day, and nothing is billed after it expired.
    ending = [e for e in real["events"] if e["subject"].startswith("Microsoft 365 Business Basic (4")]
    assert [(e["date"], e["kind"]) for e in ending] == [
        ("2027-02-01", "expired"), ("2027-03-03", "disabled"), ("2027-06-01", "deleted")]


def test_a_jump_of_two_years_equals_730_jumps_of_a_day(world):
    with transaction.atomic():
        move("2028-06-14")
        one_jump = snapshot()
        transaction.set_rollback(True)
    assert clock.today() == date(2026, 6, 15)
    for _ in range(730):
        clock_move(actor="support@portal.local", days=1)
    assert clock.today() == date(2028, 6, 14)
    assert snapshot() == one_jump


def test_a_subscription_being_set_up_is_provisioned_after_its_time_and_the_blocker_clears(at_date, settings):
    from planchange.eligibility import eligibility_check
    from simulation.sweep import sweep_run

    at_date("2026-06-15")
    settings.PORTAL_PROVISIONING_MINUTES = 5
    tenant, card, sub, _ = mosa_standard()
    from billing.lifecycle import provisioning_time

    Subscription.objects.filter(pk=sub.pk).update(provisioning="provisioning",
                                                  provisioning_until=clock.now() + provisioning_time())
    sub.refresh_from_db()
    blocker = next(b for b in eligibility_check(subscription=sub).blockers)
    assert blocker.code == "subscription_not_provisioned"
    assert "expected to be ready by " in blocker.detail and "or when support finishes it" in blocker.detail
    assert sweep_run()["happened"] == []  # five minutes haven't passed
    moved = clock_move(actor="support@portal.local", days=1)
    assert [(e["kind"], e["ref"]) for e in moved["events"]] == [("provisioned", f"subscription/{sub.pk}")]
    sub.refresh_from_db()
    assert (sub.provisioning, eligibility_check(subscription=sub).blockers) == ("provisioned", [])


def test_support_finishes_provisioning_through_the_api(at_date):
    from tests.factories import LoginFactory
    from tests.planchange.test_plan_change_api import client_for

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    Subscription.objects.filter(pk=sub.pk).update(provisioning="provisioning")
    url = f"/api/v1/support/subscriptions/{sub.pk}/provision/"
    assert client_for(admin_of(tenant)).post(url).status_code == 403
    staff = client_for(LoginFactory(is_staff=True, username="support@portal.local"))
    done = staff.post(url)
    assert (done.status_code, done.json()["provisioning"], done.json()["tenant"]) == (200, "provisioned", tenant.pk)
    again = staff.post(url)
    assert (again.status_code, again.json()["code"]) == (409, "already_provisioned")
    event = tenant.events.get(verb="subscription.provisioning_finished")
    assert (event.actor, event.data) == ("support@portal.local", {"reason": "finished by support"})


def test_the_clock_api_dry_run_answers_the_events_and_moves_nothing(at_date):
    from tests.factories import LoginFactory
    from tests.planchange.test_plan_change_api import client_for

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    staff = client_for(LoginFactory(is_staff=True))
    dry = staff.post("/api/v1/support/clock/", {"to": "2026-08-01", "dry_run": True}, format="json")
    assert dry.status_code == 200
    body = dry.json()
    assert (body["today"], body["from"], body["to"], body["dry_run"]) == ("2026-06-15", "2026-06-15", "2026-08-01",
                                                                        True)
    assert [(e["date"], e["kind"], e["tenant"]) for e in body["events"]] == [
        ("2026-07-01", "invoice", tenant.pk), ("2026-07-02", "payment", tenant.pk),
        ("2026-08-01", "invoice", tenant.pk)]
    assert Invoice.objects.count() == 0 and clock.today() == date(2026, 6, 15)
    real = staff.post("/api/v1/support/clock/", {"to": "2026-08-01"}, format="json").json()
    assert (real["today"], real["events"], real["dry_run"]) == ("2026-08-01", body["events"], False)
    assert Invoice.objects.count() == 2


def test_a_scheduled_change_warns_of_what_would_stop_it_and_its_failure_names_the_fix(at_date):
    from tests.factories import LoginFactory  # noqa: F401
    from tests.planchange.test_plan_change_api import client_for

    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="warned.example")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice", payment_habit="never")
    sub = SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice")
    admin = admin_of(tenant)
    api = client_for(admin)
    change = api.post("/api/v1/plan-changes/", {"subscription": sub.pk, "target_sku": "SPB", "schedule": "renewal"},
                      format="json", HTTP_IDEMPOTENCY_KEY="warned-1").json()
    assert change["warnings"] == []  # nothing unpaid yet
    move("2026-09-02")  # July's line (invoice of 08-01) fell past due on 09-01
    warnings = api.get(f"/api/v1/plan-changes/{change['id']}/").json()["warnings"]
    assert [(w["code"], w["action"]["label"]) for w in warnings] == [("unpaid_balance", "Pay now")]
    assert change["scheduled_for"] == "2027-01-01"
    moved = move("2027-01-01")
    failed = api.get(f"/api/v1/plan-changes/{change['id']}/").json()
    assert (failed["status"], failed["blockers"], failed["error"]["code"], failed["warnings"]) == (
        "failed", ["unpaid_balance"], "blocked", [])
    assert [e["detail"] for e in moved["events"] if e["kind"] == "plan_change"] == [
        "The change scheduled for renewal failed: Your invoice has an unpaid balance."]


@pytest.mark.parametrize("tenants", [2, 20])
def test_days_when_nothing_falls_due_cost_the_same_few_queries_whatever_the_number_of_tenants(
        at_date, tenants, django_assert_max_num_queries):
    at_date("2026-06-15")
    for i in range(tenants):  # subscriptions that are over: nothing falls due for two years
        SubscriptionFactory(tenant=TenantFactory(domain=f"quiet{i}.example"), status="deleted")
    clock_move(actor="support", days=1)  # the first move starts the day loop's watermark
    # 73 with savepoints (4 of them: payment habits; 11: the move's row asked for, taken up, its progress, done),
    # for 2 tenants as for 20
    with django_assert_max_num_queries(74):
        moved = clock_move(actor="support", days=730)
    assert moved["events"] == []


def test_a_move_asks_for_the_next_day_due_once_when_real_time_reached_its_start_before(at_date):
    """A move first applies what real time reached before it began (the beat's sweep may lag), then its own days.
    When the sweep had applied them all (as usual), that first part asks nothing: the next day due is asked once
    per day the move itself looks at, not once more (six statements of every one-day move, the 730 of a test)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    at_date("2026-06-15")
    mosa_standard()
    clock_move(actor="support", days=1)  # the watermark: every day up to today applied
    with CaptureQueriesContext(connection) as queries:
        moved = clock_move(actor="support", days=1)
    asked = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT MIN("billing_subscription"')]
    assert (moved["events"], len(asked)) == ([], 1)


def test_a_day_reached_by_two_appliers_is_applied_once(at_date):
    """The beat's sweep and a support move can reach the same day: the second finds it applied."""
    from simulation.days import day_apply

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    clock_move(actor="support", days=1)
    clock.set_date(date(2026, 7, 1))
    first = day_apply(date(2026, 7, 1), since=date(2026, 6, 16))
    again = day_apply(date(2026, 7, 1), since=date(2026, 6, 16))
    assert ([h.kind for h in first], again) == (["invoice"], [])
    assert Invoice.objects.filter(tenant=tenant).count() == 1
    assert tenant.events.filter(verb="invoice.lines_added").count() == 1


def test_a_credit_gives_back_at_most_what_the_period_was_charged_for_its_licenses(at_date):
    """The probe's money from nothing: 300 licenses PATCHed onto a 25-license subscription, then a
    change credited all 300 (never charged) for the rest of the month and refunded it to the card.
    Now buying them charges them, and the credit is of what was charged."""
    from billing.services import subscription_update
    from planchange.workflow import run

    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=3)
    admin = admin_of(tenant)
    move("2026-07-01")  # July is billed: 25 × 13.13 = 328.25
    sub.refresh_from_db()
    assert (sub.billed_amount, sub.billed_until) == (Decimal("328.25"), date(2026, 8, 1))
    subscription_update(tenant=tenant, subscription_id=sub.pk, actor="admin", licenses=300)
    bought = Invoice.objects.get(tenant=tenant, number__contains="-L")
    assert (bought.total, bought.paid) == (Decimal("3610.75"), Decimal("3610.75"))  # 3939.00 − 328.25, all July
    move("2026-07-16")
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB", licenses=3)
    assert run(change.pk) == "completed"
    change.refresh_from_db()
    # 16 unused days of 31 of what July now cost (3939.00), never more than was charged for it.
    assert change.credit == Decimal("-2033.03")
    assert -change.credit <= Decimal("328.25") + bought.total


def test_one_move_of_the_clock_at_a_time(at_date):
    from portal.errors import Conflict
    from simulation.moves import move_request

    at_date("2026-06-15")
    other = move_request(actor="other@portal.local", to=date(2027, 1, 1), wake=False)  # under way, nobody runs it yet
    with pytest.raises(Conflict) as refused:
        move("2026-07-01")
    assert (refused.value.code, refused.value.extra) == ("clock_moving", {"move": other.pk})
    assert clock.today() == date(2026, 6, 15)
    with pytest.raises(Conflict):  # nor a preview: the world it would copy is moving
        move("2026-07-01", dry_run=True)
    other.status = "done"
    other.save()
    assert move("2026-07-01")["to"] == "2026-07-01"
    assert move("2026-08-01")["to"] == "2026-08-01"  # free again after a move, whatever it did


def test_days_a_change_kept_from_billing_are_charged_when_it_takes_effect(at_date):
    """A change queued (its worker down) holds its subscription over the start of July: billing waits
    for the change, which takes effect on 07-20. July 1–20 were used and never billed: the change's
    invoice charges them at the old offer, so no day is given away."""
    from planchange.workflow import run

    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=3)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB")
    moved = move("2026-07-20")
    assert [e for e in moved["events"] if e["ref"] == f"subscription/{sub.pk}"] == []  # held: not billed
    assert run(change.pk) == "completed"
    change.refresh_from_db()
    lines = [(line.description, str(line.amount), line.subscription_id) for line in change.invoice.lines.all()]
    # 328.25 × 19/31 = 201.185… → 201.19 for the 19 days of July used; then the new plan's first month.
    assert lines == [
        ("Microsoft 365 Business Standard (25 licenses), 19 days used before the change, 2026-07-01 to 2026-07-20",
         "201.19", sub.pk),
        ("Microsoft 365 Business Premium (25 licenses), 2026-07-20 to 2026-08-20", "577.50",
         change.new_subscription_id),
    ]
    assert change.credit == 0


def test_a_subscription_made_on_the_way_is_named_by_its_change_in_the_dry_run_and_the_real_move(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="cardmca.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    profile = BillingProfileFactory(tenant=tenant, payment="card")
    sub = SubscriptionFactory(tenant=tenant, licenses=5, billing_profile=profile, payment="card",
                              payment_method=card)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    dry = move("2028-06-15", dry_run=True)
    real = move("2028-06-15")
    assert real["events"] == dry["events"]
    made = f"plan_change/{change.pk}/new_subscription"
    # Made on 2027-01-01 by the change; renewed a year later, under the same name in both lists.
    assert [(e["date"], e["kind"]) for e in real["events"] if e["ref"] == made] == [("2028-01-01", "renewal")]


def test_licenses_bought_mid_period_are_charged_for_the_rest_of_it(at_date):
    """Microsoft's "Buy or remove licenses": the rest of the previous charge reversed, the rest of the
    period charged for the new count; a later credit gives back what the period now costs."""
    from billing.services import subscription_update

    at_date("2026-06-16")
    tenant, card, sub, users = mosa_standard(users=3)
    subscription_update(tenant=tenant, subscription_id=sub.pk, actor="admin", licenses=35)
    (invoice,) = Invoice.objects.filter(tenant=tenant)
    # June 16–30 is 15 of 30 days: 25 × 13.13 = 328.25 → 164.13 (half up) reversed; 35 × 13.13 = 459.55 →
    # 229.78 charged; paid at once by the card on file.
    assert [(line.description, str(line.amount)) for line in invoice.lines.all()] == [
        ("Microsoft 365 Business Standard (25 licenses), 2026-06-16 to 2026-07-01: reversed", "-164.13"),
        ("Microsoft 365 Business Standard (35 licenses), 2026-06-16 to 2026-07-01", "229.78"),
    ]
    assert (invoice.date, invoice.total, invoice.paid) == (date(2026, 6, 16), Decimal("65.65"), Decimal("65.65"))
    sub.refresh_from_db()
    assert sub.billed_amount == Decimal("459.55")
    # Removing 5 the same day credits their unused days: 35 × 13.13 = 459.55 → 229.78 reversed, 30 × 13.13 =
    # 393.90 → 196.95 charged; the net 32.83 goes back to the card (net credit, nothing to pay).
    subscription_update(tenant=tenant, subscription_id=sub.pk, actor="admin", licenses=30)
    removed = Invoice.objects.filter(tenant=tenant).exclude(pk=invoice.pk).get()
    assert [(line.description, str(line.amount)) for line in removed.lines.all()] == [
        ("Microsoft 365 Business Standard (35 licenses), 2026-06-16 to 2026-07-01: reversed", "-229.78"),
        ("Microsoft 365 Business Standard (30 licenses), 2026-06-16 to 2026-07-01", "196.95"),
    ]
    assert removed.total == Decimal("-32.83")
    move("2026-07-01")
    assert invoices(tenant)[-1][6] == [("Microsoft 365 Business Standard (30 licenses), 2026-07-01 to 2026-08-01",
                                        "393.90")]


def test_the_cancel_api_answers_the_credit_it_gave_or_why_not(at_date):
    from tests.planchange.test_plan_change_api import client_for

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard()
    api = client_for(admin_of(tenant))
    done = api.post(f"/api/v1/subscriptions/{sub.pk}/cancel/")
    assert done.status_code == 200
    body = done.json()
    assert (body["subscription"]["status"], body["credit"]["amount"], body["credit"]["description"]) == (
        "disabled", "-175.07", "Credit for 16 unused days of Microsoft 365 Business Standard (25 licenses)")
    again = api.post(f"/api/v1/subscriptions/{sub.pk}/cancel/")
    assert (again.status_code, again.json()["code"]) == (409, "subscription_not_active")


def test_the_api_shows_the_stage_its_end_and_what_users_still_have(at_date):
    from tests.planchange.test_plan_change_api import client_for

    at_date("2026-06-15")
    tenant, card, sub, _ = mosa_standard(users=1)
    api = client_for(admin_of(tenant))
    assert api.patch(f"/api/v1/subscriptions/{sub.pk}/", {"recurring_billing": False}, format="json").status_code == 200
    move("2027-01-01")
    body = api.get(f"/api/v1/subscriptions/{sub.pk}/").json()
    assert (body["status"], body["status_until"], body["users_access"], body["next_billing_date"],
            body["renewal_date"]) == ("expired", "2027-01-31", "full", None, None)
    move("2027-01-31")
    body = api.get(f"/api/v1/subscriptions/{sub.pk}/").json()
    assert (body["status"], body["status_until"], body["users_access"]) == ("disabled", "2027-05-01", "admins_only")


def test_a_change_that_held_its_subscription_over_a_billing_date_and_failed_leaves_it_billed(at_date):
    """What `make soak` found: a change queued while support moves the clock past its subscription's billing date
    (the day loop leaves a held subscription to the change), then failing at validate, gave the subscription back
    unbilled for the days applied; it is billed through them when it is given back."""
    from planchange.workflow import run

    at_date("2026-06-15")
    tenant, card, sub, users = mosa_standard(users=3)
    move("2026-06-16")  # the sweep has applied a day: billed through July 1st
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB")
    move("2026-07-05")  # July 1st passes while the change holds the subscription: not billed then
    sub.refresh_from_db()
    assert (sub.held_by, sub.billed_until) == (change.holder, date(2026, 7, 1))
    Subscription.objects.filter(pk=sub.pk).update(provisioning="provisioning")  # blocked meanwhile
    assert run(change.pk) == "failed"
    sub.refresh_from_db()
    assert (sub.held_by, sub.billed_until) == ("", date(2026, 8, 1))
    july = Invoice.objects.get(tenant=tenant, date=date(2026, 7, 1))
    assert [(line.description, str(line.amount)) for line in july.lines.all()] == [
        ("Microsoft 365 Business Standard (25 licenses), 2026-07-01 to 2026-08-01", "328.25")]
