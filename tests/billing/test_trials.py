"""Trials end (DESIGN.md "Time and the subscription lifecycle"; Microsoft's "Try or buy a Microsoft 365
subscription" and "Extend your trial"): a trial lasts a month; at its end it converts to paid (a payment
method on file, recurring billing on: billing starts that day) or expires into the lifecycle. Its page says
when it ends, Purchase subscription converts it now, Extend trial gives 30 more days once.

Stories in Kill Bill's manner: set the clock, act through the page or the API, move the clock as support
staff do, assert the exact invoices, statuses and events."""

from datetime import date

import pytest

from billing.models import Invoice, Subscription
from portal import clock
from simulation.scenarios import ScenarioError, scenario_load
from tests.factories import (
    BillingProfileFactory,
    LoginFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    product,
)
from tests.helpers import database_at, move, page_text
from tests.planchange.test_plan_change_api import client_for

pytestmark = pytest.mark.django_db

STANDARD = "Microsoft 365 Business Standard (25 licenses), {} to {}"  # 25 × 13.13 = 328.25 a month



def invoices(tenant) -> list[tuple]:
    return [(i.number, i.date.isoformat(), i.due_date.isoformat(), str(i.total), str(i.paid),
             [(line.description, str(line.amount)) for line in i.lines.all()])
            for i in Invoice.objects.filter(tenant=tenant).prefetch_related("lines").order_by("date", "pk")]


def verbs(tenant, sub) -> list[str]:
    return list(tenant.events.filter(object_id=str(sub.pk), object_type="billing.subscription")
                .order_by("pk").values_list("verb", flat=True))


@pytest.fixture
def contoso(at_date):
    """MOSA with a default card ending 4242 and a Business Standard trial of 25 licenses started 2026-06-10."""
    at_date("2026-06-15")
    tenant = TenantFactory(name="Contoso", domain="contoso.example")
    card = PaymentMethodFactory(tenant=tenant, last4="4242", is_default=True)
    trial = SubscriptionFactory(tenant=tenant, source="trial", start_date=date(2026, 6, 10), payment_method=None)
    return tenant, card, trial


# --- The day loop: a trial ends --------------------------------------------------------------------------


def test_a_trial_with_a_card_on_file_converts_on_its_end_and_is_billed_from_that_day(contoso):
    tenant, card, trial = contoso
    assert (trial.trial_ends_on, trial.billed_until) == (date(2026, 7, 10), None)  # a month, not billed
    dry = move("2026-07-11", dry_run=True)
    assert Subscription.objects.get(pk=trial.pk).source == "trial" and not Invoice.objects.exists()
    moved = move("2026-07-11")
    assert moved["events"] == dry["events"]  # the preview listed exactly what the move did
    assert [(e["date"], e["kind"], e["ref"]) for e in moved["events"]] == [
        ("2026-07-10", "trial_converted", f"subscription/{trial.pk}"),
        ("2026-07-10", "invoice", f"invoice/INV-20260710-P{trial.pk:05d}"),
        ("2026-07-11", "payment", f"invoice/INV-20260710-P{trial.pk:05d}")]
    assert moved["events"][0]["detail"] == ("The trial ended with a payment method on file and recurring billing "
                                            "on: it is now a paid subscription, billed from 2026-07-10.")
    # Billing starts the day it converts: the first month, charged to the card the day after.
    assert invoices(tenant) == [(f"INV-20260710-P{trial.pk:05d}", "2026-07-10", "2026-07-11", "328.25", "328.25",
                                 [(STANDARD.format("2026-07-10", "2026-08-10"), "328.25")])]
    trial.refresh_from_db()
    assert (trial.source, trial.status, trial.start_date, trial.trial_ends_on, trial.billed_until,
            str(trial.billed_amount), trial.payment, trial.payment_method) == (
        "direct", "active", date(2026, 7, 10), date(2026, 7, 10), date(2026, 8, 10), "328.25", "card", card)
    assert verbs(tenant, trial) == ["subscription.trial_converted"]
    assert tenant.events.get(verb="subscription.trial_converted").data == {"on": "2026-07-10", "payment": "card"}
    move("2026-08-11")  # and on, month by month, as any subscription
    assert [i[0] for i in invoices(tenant)] == [f"INV-20260710-P{trial.pk:05d}", f"INV-20260810-P{trial.pk:05d}"]


def test_a_trial_without_a_payment_method_expires_and_follows_the_lifecycle(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="nocard.example")
    trial = SubscriptionFactory(tenant=tenant, source="trial", start_date=date(2026, 6, 10))
    moved = move("2026-11-08")
    assert [(e["date"], e["kind"]) for e in moved["events"]] == [
        ("2026-07-10", "trial_expired"), ("2026-08-09", "disabled"), ("2026-11-07", "deleted")]
    assert moved["events"][0]["detail"] == ("The trial ended with no payment method on file: Expired. Users keep "
                                            "service until 2026-08-09, when it is disabled.")
    trial.refresh_from_db()
    assert (trial.status, trial.source, trial.billed_until) == ("deleted", "trial", None)
    assert verbs(tenant, trial) == ["subscription.trial_expired", "subscription.disabled", "subscription.deleted"]
    assert tenant.events.get(verb="subscription.trial_expired").data == {
        "on": "2026-07-10", "disabled_on": "2026-08-09", "reason": "no_payment_method"}
    assert not Invoice.objects.exists()


def test_a_trial_with_recurring_billing_off_expires_even_with_a_card(contoso):
    tenant, _card, trial = contoso
    Subscription.objects.filter(pk=trial.pk).update(recurring_billing=False)
    moved = move("2026-07-10")
    assert [(e["date"], e["kind"], e["detail"]) for e in moved["events"]] == [
        ("2026-07-10", "trial_expired", "The trial ended with recurring billing off: Expired. Users keep service "
                                        "until 2026-08-09, when it is disabled.")]
    trial.refresh_from_db()
    assert (trial.status, trial.status_until) == ("expired", date(2026, 8, 9))
    assert not Invoice.objects.exists()


def test_an_mca_trial_converts_onto_the_billing_profiles_next_monthly_invoice(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="fabrikam.example")
    profile = BillingProfileFactory(tenant=tenant, name="Fabrikam billing", payment="invoice")
    trial = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=10, source="trial",
                                start_date=date(2026, 6, 10), billing_profile=profile, payment="invoice")
    moved = move("2026-08-01")
    assert [(e["date"], e["kind"], e["ref"]) for e in moved["events"]] == [
        ("2026-07-10", "trial_converted", f"subscription/{trial.pk}"),
        ("2026-07-10", "invoice", f"invoice/BP{profile.pk}-202608")]
    # Business Premium 10 × 23.10 = 231.00 for 2026-07-10 to 2026-08-10, on the invoice of the next 1st, net 30.
    assert invoices(tenant) == [(f"BP{profile.pk}-202608", "2026-08-01", "2026-08-31", "231.00", "0.00",
                                 [("Microsoft 365 Business Premium (10 licenses), 2026-07-10 to 2026-08-10", "231.00")])]
    trial.refresh_from_db()
    assert (trial.source, trial.billing_profile, trial.payment) == ("direct", profile, "invoice")


def test_many_trials_end_on_one_day_in_the_same_queries_for_2_and_20_tenants(at_date):
    """Set-based, as the rest of the day loop: the trials, the tenants' payment methods and profiles, the rows
    and the audit events in one statement each, however many tenants."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.trials import trials_end_run

    at_date("2026-06-15")

    def trials(n):
        for i in range(n):
            tenant = TenantFactory()
            if i % 2:
                PaymentMethodFactory(tenant=tenant, is_default=True)
            SubscriptionFactory(tenant=tenant, source="trial", start_date=date(2026, 6, 10))
        with CaptureQueriesContext(connection) as queries, clock.offset_pinned():  # as the day loop runs it
            happened = trials_end_run(day=date(2026, 7, 10))
        Subscription.objects.filter(source="trial").update(status="deleted")
        return len(queries), sorted(h.kind for h in happened)

    small, kinds = trials(2)
    assert kinds == ["trial_converted", "trial_expired"]
    big, kinds = trials(20)
    assert kinds == ["trial_converted"] * 10 + ["trial_expired"] * 10
    assert small == big


# --- The page: Trial ends on, Purchase subscription, Extend trial --------------------------------------


def test_the_trials_page_says_when_it_ends_and_offers_purchase_and_extend(client, contoso):
    tenant, _card, trial = contoso
    client.force_login(admin_of(tenant))
    text = page_text(client.get(f"/billing/products/{trial.pk}/"))
    assert "Trial ends on 2026-07-10" in text
    assert "Purchase subscription" in text and "Extend trial" in text
    assert "Renews on" not in text  # a trial ends, it doesn't renew
    sv = page_text(client.get(f"/billing/products/{trial.pk}/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Utvärderingsversionen upphör den 2026-07-10" in sv
    assert "Köp prenumeration" in sv and "Förläng utvärderingsversionen" in sv


def test_extend_trial_gives_30_days_once_within_its_last_15_days_and_says_why_not_beside_the_button(client, contoso):
    tenant, _card, trial = contoso
    client.force_login(admin_of(tenant))
    url = f"/billing/products/{trial.pk}/"
    early = client.post(f"{url}trial/extend/", follow=True)  # 2026-06-15: the window opens 2026-06-25
    assert "A trial can be extended within 15 days of its end: from 2026-06-25." in page_text(early)
    assert b'data-testid="trial-error"' in early.content
    clock.set_date(date(2026, 6, 26))
    done = client.post(f"{url}trial/extend/", follow=True)
    assert "The trial is extended by 30 days: it ends on 2026-08-09." in page_text(done)
    assert "Trial ends on 2026-08-09" in page_text(done) and "Extend trial" not in page_text(done)
    again = client.post(f"{url}trial/extend/", follow=True)  # a stale page's button
    assert again.redirect_chain == [(f"{url}#trial", 302)]
    assert ("This trial was extended once already and can't be extended again. Buy the subscription to keep using "
            "it after 2026-08-09.") in page_text(again)
    trial.refresh_from_db()
    assert (trial.trial_ends_on, trial.trial_extended) == (date(2026, 8, 9), True)
    assert verbs(tenant, trial) == ["subscription.trial_extended"]
    assert tenant.events.get(verb="subscription.trial_extended").data == {"from": "2026-07-10",
                                                                          "trial_ends_on": "2026-08-09"}
    # The day loop ends it on the new date, not the old one.
    assert [(e["date"], e["kind"]) for e in move("2026-08-09")["events"]][:1] == [("2026-08-09", "trial_converted")]


def test_purchase_subscription_converts_now_and_bills_from_today(client, contoso):
    tenant, card, trial = contoso
    client.force_login(admin_of(tenant))
    done = client.post(f"/billing/products/{trial.pk}/trial/purchase/", follow=True)
    number = f"INV-20260615-P{trial.pk:05d}"
    assert (f"You bought the subscription: billing starts today. Its first billing period is on invoice {number}."
            in page_text(done))
    assert "Trial ends on" not in page_text(done)
    assert invoices(tenant) == [(number, "2026-06-15", "2026-06-16", "328.25", "0.00",
                                 [(STANDARD.format("2026-06-15", "2026-07-15"), "328.25")])]
    trial.refresh_from_db()
    assert (trial.source, trial.start_date, trial.trial_ends_on, trial.billed_until, trial.payment_method) == (
        "direct", date(2026, 6, 15), date(2026, 6, 15), date(2026, 7, 15), card)
    assert verbs(tenant, trial) == ["subscription.trial_purchased"]
    # Nothing happens on the old end date; the next period is a month after the purchase.
    assert [(e["date"], e["kind"]) for e in move("2026-07-15")["events"]] == [
        ("2026-06-16", "payment"), ("2026-07-15", "invoice")]


def test_purchase_without_a_payment_method_is_refused_beside_the_button(client, at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="nocard.example")
    trial = SubscriptionFactory(tenant=tenant, source="trial", start_date=date(2026, 6, 10))
    client.force_login(admin_of(tenant))
    refused = client.post(f"/billing/products/{trial.pk}/trial/purchase/", follow=True)
    assert "Add a payment method first: the subscription is paid with it from today." in page_text(refused)
    assert Subscription.objects.get(pk=trial.pk).source == "trial" and not Invoice.objects.exists()


def test_turning_recurring_billing_back_on_for_an_expired_trial_buys_it(client, contoso):
    tenant, _card, trial = contoso
    Subscription.objects.filter(pk=trial.pk).update(recurring_billing=False)
    move("2026-07-20")
    client.force_login(admin_of(tenant))
    page = page_text(client.get(f"/billing/products/{trial.pk}/"))
    assert "The trial ended on 2026-07-10." in page and "Purchase subscription" in page
    client.post(f"/billing/products/{trial.pk}/recurring-billing/", {"enabled": "on"})
    trial.refresh_from_db()
    assert (trial.status, trial.source, trial.start_date, trial.billed_until) == (
        "active", "direct", date(2026, 7, 20), date(2026, 8, 20))
    assert invoices(tenant)[-1][1:4] == ("2026-07-20", "2026-07-21", "328.25")


# --- The API --------------------------------------------------------------------------------------------


def test_the_api_shows_the_trials_end_extends_it_once_and_purchases_it(contoso):
    tenant, _card, trial = contoso
    api = client_for(admin_of(tenant))
    url = f"/api/v1/subscriptions/{trial.pk}/"
    body = api.get(url).json()
    assert (body["source"], body["trial_ends_on"], body["trial_extended"], body["renewal_date"],
            body["next_billing_date"]) == ("trial", "2026-07-10", False, None, None)
    early = api.post(f"{url}trial/extend/")
    assert (early.status_code, early.json()["code"], early.json()["extendable_from"]) == (
        409, "trial_extend_not_yet", "2026-06-25")
    clock.set_date(date(2026, 7, 1))
    extended = api.post(f"{url}trial/extend/")
    assert extended.status_code == 200
    assert (extended.json()["trial_ends_on"], extended.json()["trial_extended"]) == ("2026-08-09", True)
    again = api.post(f"{url}trial/extend/")
    assert (again.status_code, again["Content-Type"], again.json()["code"]) == (
        409, "application/problem+json", "trial_already_extended")
    bought = api.post(f"{url}trial/purchase/")
    assert bought.status_code == 200
    number = f"INV-20260701-P{trial.pk:05d}"
    assert bought.json()["invoice"] == {"id": Invoice.objects.get(number=number).pk, "number": number}
    sub = bought.json()["subscription"]
    assert (sub["source"], sub["start_date"], sub["trial_ends_on"], sub["next_billing_date"], sub["renewal_date"]) == (
        "direct", "2026-07-01", "2026-07-01", "2026-08-01", "2027-07-01")
    assert invoices(tenant) == [(number, "2026-07-01", "2026-07-02", "328.25", "0.00",
                                 [(STANDARD.format("2026-07-01", "2026-08-01"), "328.25")])]
    not_trial = api.post(f"{url}trial/purchase/")
    assert (not_trial.status_code, not_trial.json()["code"]) == (409, "not_a_trial")


def test_the_api_refuses_a_purchase_without_payment_and_another_tenants_trial_is_a_404(contoso):
    _tenant, _card, trial = contoso
    other = TenantFactory(domain="other.example")
    bare = SubscriptionFactory(tenant=other, source="trial", start_date=date(2026, 6, 10))
    api = client_for(admin_of(other))
    refused = api.post(f"/api/v1/subscriptions/{bare.pk}/trial/purchase/")
    assert (refused.status_code, refused.json()["code"]) == (422, "payment_method_required")
    for action in ("extend", "purchase"):
        foreign = api.post(f"/api/v1/subscriptions/{trial.pk}/trial/{action}/")
        assert (foreign.status_code, foreign.json()["code"]) == (404, "subscription_not_found")
    reader = client_for(admin_of(other, "global_reader"))
    assert reader.post(f"/api/v1/subscriptions/{bare.pk}/trial/extend/").status_code == 403
    assert Subscription.objects.get(pk=bare.pk).source == "trial"


# --- The clock preview, in English and Swedish ------------------------------------------------------------


def test_the_support_consoles_preview_lists_conversions_and_expiries_in_english_and_swedish(client, contoso):
    _tenant, _card, trial = contoso
    bare = SubscriptionFactory(tenant=TenantFactory(domain="nocard.example"), source="trial",
                               start_date=date(2026, 6, 12))
    client.force_login(LoginFactory(is_staff=True, username="support@portal.local"))
    form = {"how": "to", "value": "2026-07-12", "action": "preview"}
    en = page_text(client.post("/support/clock/", form))
    assert ("2026-07-10 Trial converted contoso.example Microsoft 365 Business Standard (25 licenses) The trial ended "
            "with a payment method on file and recurring billing on: it is now a paid subscription, billed from "
            "2026-07-10.") in en
    assert ("2026-07-12 Trial expired nocard.example Microsoft 365 Business Standard (25 licenses) The trial ended "
            "with no payment method on file: Expired. Users keep service until 2026-08-11, when it is disabled.") in en
    sv = page_text(client.post("/support/clock/", form, HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("2026-07-10 Utvärderingsversion omvandlad contoso.example Microsoft 365 Business Standard (25 licenser) "
            "Utvärderingsversionen upphörde med en registrerad betalningsmetod och återkommande fakturering på: den "
            "är nu en betald prenumeration som faktureras från och med 2026-07-10.") in sv
    assert ("2026-07-12 Utvärderingsversion har upphört nocard.example Microsoft 365 Business Standard (25 licenser) "
            "Utvärderingsversionen upphörde utan registrerad betalningsmetod: har upphört. Användarna behåller "
            "tjänsten till 2026-08-11, då den inaktiveras.") in sv
    assert clock.today() == date(2026, 6, 15)
    assert {s.source for s in Subscription.objects.filter(pk__in=[trial.pk, bare.pk])} == {"trial"}


# --- Scenario files ------------------------------------------------------------------------------------------


def test_a_scenario_trial_ends_a_month_after_its_start_or_on_its_own_date(at_date):
    at_date("2026-06-15")
    scenario_load({"clock": "2026-06-15", "tenants": [{
        "name": "Trials", "domain": "trials.example",
        "payment_methods": [{"key": "visa", "kind": "card", "last4": "4242", "default": True}],
        "subscriptions": [
            {"key": "a", "sku": "O365_BUSINESS_PREMIUM", "licenses": 25, "source": "trial", "start_date": "2026-06-01"},
            {"key": "b", "sku": "SPB", "licenses": 25, "source": "trial", "start_date": "2026-05-20",
             "trial_ends_on": "2026-07-19", "trial_extended": True}]}]})
    rows = Subscription.objects.filter(tenant__domain="trials.example").order_by("pk")
    assert [(s.trial_ends_on, s.trial_extended, s.billed_until) for s in rows] == [
        (date(2026, 7, 1), False, None), (date(2026, 7, 19), True, None)]
    with pytest.raises(ScenarioError) as refused:
        scenario_load({"tenants": [{"name": "Bad", "domain": "bad.example", "subscriptions": [
            {"key": "a", "sku": "SPB", "licenses": 5, "trial_ends_on": "2026-07-01"}]}]})
    assert 'only a trial ("source": "trial") has an end' in str(refused.value)


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_trials_their_end_and_stops_billing_them():
    with database_at([("billing", "0013_facts_from_audit_trail")]) as old:
        tenant = old.get_model("portal", "Tenant").objects.create(name="Old", domain="old.example")
        product_id = old.get_model("billing", "Product").objects.get(sku="O365_BUSINESS_PREMIUM").pk
        rows = old.get_model("billing", "Subscription").objects
        fields = {"tenant": tenant, "product_id": product_id, "licenses": 25, "term": "P1Y",
                  "billing_frequency": "monthly", "billed_until": date(2026, 7, 31)}
        trial = rows.create(source="trial", start_date=date(2026, 1, 31), **fields)
        direct = rows.create(source="direct", start_date=date(2026, 1, 1), **fields)
    got = {s.pk: (s.trial_ends_on, s.trial_extended, s.billed_until) for s in Subscription.objects.all()}
    assert got == {trial.pk: (date(2026, 2, 28), False, None), direct.pk: (None, False, date(2026, 7, 31))}
