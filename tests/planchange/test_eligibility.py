"""Why can't I change plans? Every row of the article, all blockers at once, the
supported targets by data-related services, and fixing a cause removes its blocker."""

from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Subscription
from billing.selectors import subscription_get
from billing.services import credit_checks_complete_due, invoice_pay, subscription_addon_remove, subscription_cancel
from licensing.services import license_replace, license_unassign
from planchange.eligibility import data_services_lost, eligibility_check
from portal import clock
from portal.models import ServiceIncident, Tenant
from portal.services import incident_resolve
from simulation.scenarios.loader import scenario_load_file
from tests.factories import (
    CreditCheckFactory,
    IncidentFactory,
    InvoiceFactory,
    LicenseFactory,
    PlanChangeFactory,
    SubscriptionFactory,
    TenantFactory,
    addon,
    licenses_bulk,
    product,
)

pytestmark = pytest.mark.django_db

CODES = [
    "users_exceed_licenses", "subscription_not_provisioned", "service_incident", "change_in_progress",
    "credit_check_pending", "subscription_not_eligible", "duplicate_product", "government_or_nonprofit",
    "target_not_supported", "addon_present", "unpaid_balance", "subscription_not_active",
]


def check(sub):
    """Eligibility as the pages and the API see it (the subscription re-read through the selector)."""
    return eligibility_check(subscription=subscription_get(tenant=sub.tenant, id=sub.pk))


def codes(sub) -> list[str]:
    return [b.code for b in check(sub).blockers]


def target(sub, sku):
    return next(t for t in check(sub).targets if t.product.sku == sku)


@pytest.fixture
def healthy(at_date):
    at_date("2026-06-15")
    sub = SubscriptionFactory(licenses=5)
    for _ in range(3):
        LicenseFactory(subscription=sub)
    return sub


# --- One scenario per row ------------------------------------------------------------


def test_every_contract_code_has_a_scenario_file():
    assert sorted(p.stem for p in Path("scenarios").glob("*.json") if p.stem != "demo") == sorted(CODES)


@pytest.mark.parametrize("code", CODES)
def test_each_rows_scenario_gives_exactly_its_code(code):
    report = scenario_load_file(Path("scenarios") / f"{code}.json")
    sub = Subscription.objects.filter(tenant=report.tenants[0]).order_by("id").first()
    if code == "target_not_supported":
        assert codes(sub) == []
        premium_to_standard = target(sub, "O365_BUSINESS_PREMIUM")  # a cheaper plan, and data lost
        assert [r.code for r in premium_to_standard.reasons] == ["target_not_supported", "target_not_upgrade"]
        assert premium_to_standard.reasons[0].services == ("Exchange Online Archiving",)
    else:
        assert codes(sub) == [code]
        assert check(sub).can_change_automatically is False


def test_a_healthy_subscription_has_no_blockers(healthy):
    result = check(healthy)
    assert result.blockers == []
    assert result.can_change_automatically is True


def test_three_blockers_at_once_are_all_returned(healthy):
    Subscription.objects.filter(pk=healthy.pk).update(source="trial")
    healthy.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    CreditCheckFactory(tenant=healthy.tenant, requested=date(2026, 6, 15))
    assert codes(healthy) == ["credit_check_pending", "subscription_not_eligible", "addon_present"]


def test_every_subscription_rule_at_once(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(kind="government")
    sub = SubscriptionFactory(tenant=tenant, licenses=1, provisioning="provisioning", source="reseller",
                              status="disabled", payment="invoice")
    LicenseFactory(subscription=sub)
    LicenseFactory(subscription=sub)
    SubscriptionFactory(tenant=tenant, status="active")  # two more of the same product, active
    SubscriptionFactory(tenant=tenant, status="active")
    IncidentFactory(tenant=tenant, service="sharepoint")
    PlanChangeFactory(subscription=SubscriptionFactory(tenant=tenant, product=product("SPB")), status="running")
    CreditCheckFactory(tenant=tenant)
    sub.subscription_addons.create(addon=addon("EXCHANGE_ARCHIVING_ADDON"), added_on=date(2026, 1, 1))
    InvoiceFactory(tenant=tenant, total="10.00", due_date=date(2026, 6, 1))
    Subscription.objects.filter(pk=sub.pk).update(status="expired")
    assert codes(sub) == [c for c in CODES if c != "target_not_supported"]


# --- What does not block -------------------------------------------------------------


def test_an_incident_on_a_service_the_plan_lacks_blocks_nothing(healthy):
    IncidentFactory(tenant=healthy.tenant, service="intune")  # Business Standard has no Intune
    IncidentFactory(tenant=TenantFactory(), service="exchange")  # another tenant's
    assert codes(healthy) == []


@pytest.mark.parametrize("status", sorted(s.value for s in ServiceIncident.HEALTHY))
def test_a_resolved_incident_blocks_nothing(healthy, status):
    IncidentFactory(tenant=healthy.tenant, service="exchange", status=status)
    assert codes(healthy) == []


@pytest.mark.parametrize("status", ["investigating", "serviceDegradation", "serviceInterruption", "extendedRecovery"])
def test_an_open_incident_on_a_plan_service_blocks(healthy, status):
    IncidentFactory(tenant=healthy.tenant, service="sharepoint", status=status, title="Sites slow")
    (blocker,) = check(healthy).blockers
    assert (blocker.code, blocker.services) == ("service_incident", ("sharepoint",))
    assert "Sites slow" in blocker.detail


def test_an_unpaid_invoice_blocks_only_invoice_payers(healthy):
    InvoiceFactory(tenant=healthy.tenant, number="INV-9", total="65.65", paid="0.00",
                   date=date(2026, 5, 1), due_date=date(2026, 5, 31))
    assert healthy.payment == "card"
    assert codes(healthy) == []
    Subscription.objects.filter(pk=healthy.pk).update(payment="invoice")
    (blocker,) = check(healthy).blockers
    assert blocker.code == "unpaid_balance"
    assert blocker.detail == "Invoice INV-9 has USD 65.65 unpaid, due 2026-05-31."


def test_an_invoice_not_yet_due_or_paid_blocks_nothing(healthy):
    Subscription.objects.filter(pk=healthy.pk).update(payment="invoice")
    InvoiceFactory(tenant=healthy.tenant, total="65.65", date=date(2026, 6, 1), due_date=date(2026, 7, 1))
    InvoiceFactory(tenant=healthy.tenant, total="65.65", paid="65.65", due_date=date(2026, 5, 31))
    assert codes(healthy) == []


def test_a_non_blocking_addon_blocks_nothing(healthy):
    healthy.subscription_addons.create(addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    assert codes(healthy) == []


def test_ended_changes_and_other_subscriptions_scheduled_changes_block_nothing(healthy):
    for status in ("completed", "failed", "cancelled"):
        PlanChangeFactory(subscription=healthy, status=status)
    other = SubscriptionFactory(tenant=healthy.tenant, product=product("O365_BUSINESS_ESSENTIALS"))
    PlanChangeFactory(subscription=other, status="scheduled", schedule="renewal", scheduled_for=date(2027, 1, 1))
    assert codes(healthy) == []


def test_a_change_under_way_anywhere_in_the_tenant_blocks(healthy):
    other = SubscriptionFactory(tenant=healthy.tenant, product=product("O365_BUSINESS_ESSENTIALS"))
    PlanChangeFactory(subscription=other, status="queued")
    (blocker,) = check(healthy).blockers
    assert blocker.code == "change_in_progress"
    assert blocker.detail == ("Microsoft 365 Business Basic is being changed to Microsoft 365 Business Premium "
                              "(Queued).")


def test_a_scheduled_change_on_this_subscription_blocks(healthy):
    PlanChangeFactory(subscription=healthy, status="scheduled", schedule="renewal", scheduled_for=date(2027, 1, 1))
    (blocker,) = check(healthy).blockers
    assert blocker.code == "change_in_progress"
    assert blocker.detail == "A change to Microsoft 365 Business Premium is scheduled for 2027-01-01."


def test_a_decided_credit_check_blocks_nothing(healthy):
    CreditCheckFactory(tenant=healthy.tenant, status="approved", decided_on=date(2026, 6, 14))
    CreditCheckFactory(tenant=healthy.tenant, status="rejected", decided_on=date(2026, 6, 14))
    assert codes(healthy) == []


def test_a_cancelled_subscription_of_the_same_product_is_no_duplicate(healthy):
    SubscriptionFactory(tenant=healthy.tenant, status="cancelled")
    assert codes(healthy) == []


def test_exactly_as_many_users_as_licenses_is_fine(at_date):
    at_date("2026-06-15")
    sub = SubscriptionFactory(licenses=2)
    LicenseFactory(subscription=sub)
    LicenseFactory(subscription=sub)
    assert codes(sub) == []
    LicenseFactory(subscription=sub)
    (blocker,) = check(sub).blockers
    assert blocker.detail == "3 users have licenses, but the subscription has 2."


# --- Targets: data-related services ---------------------------------------------------


@pytest.mark.parametrize(("current", "target_sku", "lost"), [
    ("O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", []),
    ("O365_BUSINESS_ESSENTIALS", "SPB", []),
    ("O365_BUSINESS_ESSENTIALS", "ENTERPRISEPACK", []),
    ("O365_BUSINESS_ESSENTIALS", "SPE_E5", []),
    ("O365_BUSINESS_PREMIUM", "O365_BUSINESS_ESSENTIALS", []),
    ("SPB", "O365_BUSINESS_PREMIUM", ["Exchange Online Archiving"]),
    ("O365_BUSINESS", "O365_BUSINESS_ESSENTIALS", []),
    ("ENTERPRISEPACK", "SPB", ["Exchange Online (Plan 2)", "SharePoint (Plan 2)"]),
    ("EXCHANGESTANDARD", "O365_BUSINESS_ESSENTIALS", []),
    # Microsoft's reference folds OneDrive into SharePoint and archiving into Exchange Online (Plan 2): kept.
    ("O365_BUSINESS", "O365_BUSINESS_PREMIUM", []),
    ("SPB", "ENTERPRISEPACK", []),
    ("SPB", "SPE_E5", []),
    ("EXCHANGEENTERPRISE", "O365_BUSINESS_PREMIUM", ["Exchange Online (Plan 2)"]),
    ("O365_BUSINESS_ESSENTIALS", "O365_BUSINESS", ["Exchange Online (Plan 1)", "SharePoint (Plan 1)", "Viva Engage"]),
])
def test_the_catalogs_consequences(current, target_sku, lost, at_date):
    at_date("2026-06-15")
    assert data_services_lost(product(current), product(target_sku)) == lost
    sub = SubscriptionFactory(product=product(current), licenses=5)
    option = target(sub, target_sku)
    assert bool(option.gate) is bool(lost)  # the data rule; whether it is an upgrade is the price's
    assert option.supported is (not lost and option.upgrade)
    if lost:
        (reason,) = option.gate
        assert reason.code == "target_not_supported"
        assert list(reason.services) == lost
        assert reason.detail == f"Users would lose the data of: {', '.join(lost)}."


def test_a_target_too_small_for_the_users_is_not_supported(at_date):
    at_date("2026-06-15")
    from licensing.models import DirectoryUser

    sub = SubscriptionFactory(product=product("ENTERPRISEPACK"), licenses=400)
    users = DirectoryUser.objects.bulk_create(
        DirectoryUser(tenant=sub.tenant, upn=f"u{i}@{sub.tenant.domain}", display_name=f"U{i}") for i in range(301))
    licenses_bulk(sub, users)
    assert target(sub, "SPE_E5").reasons == []  # enterprise plans have no maximum
    business = SubscriptionFactory(tenant=sub.tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=300)
    licenses_bulk(business, users[:300])
    assert target(business, "SPB").supported is True  # 300 users fit Business Premium's 300
    licenses_bulk(business, users[300:])
    (reason,) = target(business, "SPB").reasons
    assert reason.detail == "Microsoft 365 Business Premium allows at most 300 licenses; 301 users need one."


def test_recommended_targets_are_the_same_family_first_then_by_price(healthy):
    Subscription.objects.filter(pk=healthy.pk).update(product=product("O365_BUSINESS_ESSENTIALS"))
    result = check(healthy)
    assert [t.product.sku for t in result.recommended] == [
        "O365_BUSINESS_PREMIUM", "SPB", "STANDARDPACK", "ENTERPRISEPACK", "SPE_E3", "ENTERPRISEPREMIUM", "SPE_E5"]
    assert [t.product.sku for t in result.unsupported] == ["O365_BUSINESS", "EXCHANGEENTERPRISE", "EXCHANGESTANDARD"]
    premium = result.recommended[1]
    offers = {(o.offer.term, o.offer.billing_frequency): (str(o.offer.price), str(o.monthly_total),
                                                          str(o.period_total)) for o in premium.offers}
    # 5 licenses: the subscription's count.
    assert offers == {
        ("P1M", "monthly"): ("26.40", "132.00", "132.00"),
        ("P1Y", "annual"): ("22.00", "110.00", "1320.00"),  # billed 12 months at once
        ("P1Y", "monthly"): ("23.10", "115.50", "115.50"),
        ("P3Y", "annual"): ("22.00", "110.00", "1320.00"),
    }


# --- Fixing the cause removes the blocker --------------------------------------------


def test_unassigning_licenses_fixes_more_users_than_licenses(healthy):
    extra = [LicenseFactory(subscription=healthy) for _ in range(3)]  # 6 users on 5 licenses
    assert codes(healthy) == ["users_exceed_licenses"]
    license_unassign(tenant=healthy.tenant, subscription_id=healthy.pk, upns=[extra[0].user.upn], actor="t")
    assert codes(healthy) == []


def test_paying_the_invoice_fixes_the_unpaid_balance(healthy):
    Subscription.objects.filter(pk=healthy.pk).update(payment="invoice")
    invoice = InvoiceFactory(tenant=healthy.tenant, total="65.65", due_date=date(2026, 5, 31))
    assert codes(healthy) == ["unpaid_balance"]
    invoice_pay(tenant=healthy.tenant, invoice_id=invoice.pk, actor="t")
    assert codes(healthy) == []


def test_resolving_the_incident_fixes_the_service_incident(healthy):
    incident = IncidentFactory(tenant=healthy.tenant, service="exchange")
    assert codes(healthy) == ["service_incident"]
    incident_resolve(incident_id=incident.pk, actor="support")
    assert codes(healthy) == []


def test_removing_the_addon_fixes_addon_present(healthy):
    healthy.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    assert codes(healthy) == ["addon_present"]
    subscription_addon_remove(tenant=healthy.tenant, subscription_id=healthy.pk, code="AUDIO_CONFERENCING",
                              actor="t")
    assert codes(healthy) == []


def test_moving_users_and_cancelling_the_duplicate_fixes_duplicate_product(healthy):
    duplicate = SubscriptionFactory(tenant=healthy.tenant, licenses=3)
    moved = LicenseFactory(subscription=duplicate)
    assert codes(healthy) == ["duplicate_product"]
    license_replace(tenant=healthy.tenant, from_subscription_id=duplicate.pk, to_subscription_id=healthy.pk,
                    upns=[moved.user.upn], actor="t")
    subscription_cancel(tenant=healthy.tenant, subscription_id=duplicate.pk, actor="t")
    assert codes(healthy) == []
    assert list(moved.user.licenses.values_list("subscription_id", flat=True)) == [healthy.pk]


def test_the_credit_check_stops_blocking_after_two_business_days(at_date):
    at_date("2026-06-12")  # Friday
    sub = SubscriptionFactory()
    CreditCheckFactory(tenant=sub.tenant, requested=date(2026, 6, 12))
    clock.advance(days=3)  # Monday: one business day
    assert credit_checks_complete_due() == []
    assert codes(sub) == ["credit_check_pending"]
    clock.advance(days=1)  # Tuesday: two business days
    assert [h.kind for h in credit_checks_complete_due()] == ["credit_check"]
    assert codes(sub) == []


# --- Constant work whatever the tenant's size ----------------------------------------


def _add_users(sub, n, start=0):
    from licensing.models import DirectoryUser

    users = DirectoryUser.objects.bulk_create(
        DirectoryUser(tenant=sub.tenant, upn=f"bulk{i}@{sub.tenant.domain}", display_name=f"Bulk {i}")
        for i in range(start, start + n))
    licenses_bulk(sub, users)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def test_eligibility_runs_the_same_queries_for_10_and_1000_users(at_date):
    at_date("2026-06-15")
    sub = SubscriptionFactory(product=product("ENTERPRISEPACK"), licenses=2000, payment="invoice")
    IncidentFactory(tenant=sub.tenant, service="teams")
    _add_users(sub, 10)
    small = _queries(lambda: check(sub))
    _add_users(sub, 990, start=10)
    assert _queries(lambda: check(sub)) == small
    assert small <= 12


def test_upgrades_endpoint_runs_the_same_queries_for_10_and_1000_users(api, at_date):
    from tests.factories import admin_of, token_for

    at_date("2026-06-15")
    sub = SubscriptionFactory(product=product("O365_BUSINESS_ESSENTIALS"), licenses=2000)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(sub.tenant))}")
    url = f"/api/v1/subscriptions/{sub.pk}/upgrades/"
    _add_users(sub, 10)
    api.get(url)
    small = _queries(lambda: api.get(url))
    _add_users(sub, 990, start=10)
    assert _queries(lambda: api.get(url)) == small


def test_tenant_kind_comes_from_the_tenant(healthy):
    Tenant.objects.filter(pk=healthy.tenant_id).update(kind="nonprofit")
    (blocker,) = check(healthy).blockers
    assert (blocker.code, blocker.detail) == ("government_or_nonprofit", "Your organization is a nonprofit organization.")


def test_upgrades_come_before_cheaper_plans(healthy):
    result = check(healthy)  # Business Standard
    assert [t.product.sku for t in result.recommended] == [
        "SPB", "ENTERPRISEPACK", "SPE_E3", "ENTERPRISEPREMIUM", "SPE_E5"]
    # Cheaper plans that keep the data: no upgrade (the manual path for a MOSA tenant), listed after.
    assert [t.product.sku for t in result.targets[5:7]] == ["O365_BUSINESS_ESSENTIALS", "STANDARDPACK"]
    assert [r.code for t in result.targets[5:7] for r in t.reasons] == ["target_not_upgrade"] * 2
