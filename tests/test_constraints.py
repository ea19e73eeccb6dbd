"""Every invariant the design calls a database constraint holds in the database itself,
on SQLite and PostgreSQL alike: writes that break one are refused by the database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.models import InvoiceLine, Subscription
from licensing.models import LicenseAssignment
from planchange.models import PlanChange
from portal.models import SimulationClock
from tests.factories import (
    CreditCheckFactory,
    DirectoryUserFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    LicenseFactory,
    PaymentMethodFactory,
    PlanChangeFactory,
    SubscriptionFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db


def refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_licenses_bought_cannot_be_negative():
    sub = SubscriptionFactory(licenses=0)
    refused(lambda: Subscription.objects.filter(pk=sub.pk).update(licenses=-1))
    refused(lambda: SubscriptionFactory(licenses=-5))
    sub.refresh_from_db()
    assert sub.licenses == 0


def test_a_user_holds_one_license_per_subscription():
    lic = LicenseFactory()
    refused(lambda: LicenseAssignment.objects.create(user=lic.user, subscription=lic.subscription))
    other = SubscriptionFactory(tenant=lic.subscription.tenant)
    LicenseAssignment.objects.create(user=lic.user, subscription=other)  # another subscription is fine
    assert lic.user.licenses.count() == 2


@pytest.mark.parametrize("first", ["scheduled", "queued", "running"])
@pytest.mark.parametrize("second", ["scheduled", "queued", "running"])
def test_at_most_one_live_plan_change_per_subscription(first, second):
    change = PlanChangeFactory(status=first, schedule="renewal" if first == "scheduled" else "now",
                               scheduled_for=date(2027, 1, 1) if first == "scheduled" else None)
    refused(lambda: PlanChangeFactory(subscription=change.subscription, status=second,
                                      schedule="renewal", scheduled_for=date(2027, 1, 1)))
    assert PlanChange.objects.filter(subscription=change.subscription).count() == 1


@pytest.mark.parametrize("ended", ["completed", "failed", "cancelled"])
def test_ended_plan_changes_do_not_block_a_new_one(ended):
    change = PlanChangeFactory(status=ended)
    PlanChangeFactory(subscription=change.subscription, status="queued")
    PlanChangeFactory(subscription=change.subscription, status=ended)
    assert PlanChange.objects.filter(subscription=change.subscription).count() == 3


def test_moving_a_second_change_to_live_is_refused():
    change = PlanChangeFactory(status="queued")
    second = PlanChangeFactory(subscription=change.subscription, status="failed")
    refused(lambda: PlanChange.objects.filter(pk=second.pk).update(status="running"))


def test_invoice_numbers_are_unique_across_tenants():
    InvoiceFactory(number="INV-1001")
    refused(lambda: InvoiceFactory(number="INV-1001", tenant=TenantFactory()))


def test_money_is_decimal_with_two_places():
    line = InvoiceLineFactory(amount=Decimal("-164.13"))
    line = InvoiceLine.objects.get(pk=line.pk)
    assert isinstance(line.amount, Decimal)
    assert line.amount == Decimal("-164.13")
    assert str(line.amount) == "-164.13"


def test_an_invoice_cannot_be_paid_more_than_its_total_or_negatively():
    refused(lambda: InvoiceFactory(total=Decimal("100.00"), paid=Decimal("100.01")))
    refused(lambda: InvoiceFactory(total=Decimal("100.00"), paid=Decimal("-1.00")))
    refused(lambda: InvoiceFactory(date=date(2026, 5, 2), due_date=date(2026, 5, 1)))
    assert InvoiceFactory(total=Decimal("100.00"), paid=Decimal("100.00")).balance == Decimal("0.00")


def test_one_default_payment_method_per_tenant():
    tenant = TenantFactory()
    PaymentMethodFactory(tenant=tenant, is_default=True)
    PaymentMethodFactory(tenant=tenant, is_default=False)
    refused(lambda: PaymentMethodFactory(tenant=tenant, is_default=True))


def test_a_card_keeps_exactly_four_digits():
    refused(lambda: PaymentMethodFactory(kind="card", last4="42"))
    refused(lambda: PaymentMethodFactory(kind="card", last4=""))
    assert PaymentMethodFactory(kind="invoice", last4="").kind == "invoice"


def test_a_credit_check_is_decided_exactly_when_not_pending():
    refused(lambda: CreditCheckFactory(status="approved", decided_on=None))
    refused(lambda: CreditCheckFactory(status="pending", decided_on=date(2026, 6, 15)))
    refused(lambda: CreditCheckFactory(status="unknown"))


def test_a_monthly_commitment_is_not_billed_annually():
    refused(lambda: SubscriptionFactory(term="P1M", billing_frequency="annual"))


def test_status_values_are_checked_by_the_database():
    sub = SubscriptionFactory()
    refused(lambda: Subscription.objects.filter(pk=sub.pk).update(status="paused"))


def test_user_principal_names_are_unique_and_lowercase():
    user = DirectoryUserFactory(upn="alice@contoso.example")
    refused(lambda: DirectoryUserFactory(upn="alice@contoso.example", tenant=user.tenant))
    refused(lambda: DirectoryUserFactory(upn="Bob@contoso.example", tenant=user.tenant))


def test_the_clock_has_a_single_row():
    SimulationClock.objects.create(pk=1, offset=timedelta(days=1))
    refused(lambda: SimulationClock.objects.create(pk=2))
