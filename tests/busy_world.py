"""A world of tenants of every kind whose billing falls due on 2026-07-01 and 2026-07-02 (the clock at
2026-06-15): the busy-day query test (``tests/planchange/test_busy_days.py``) and the clock benchmark
(``benchmarks/bench_clock_kinds.py``) build it with ``world(n)``, seven tenants per ``n``."""

from datetime import date
from decimal import Decimal

from billing.models import BillingProfile, Invoice, InvoicePayer
from tests.factories import (
    BillingProfileFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    LicenseFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    mca_subscription,
    product,
)

JAN = date(2026, 1, 1)


def credit(tenant, *, amount: str, profile: BillingProfile | None = None, **fields) -> Invoice:
    """A net credit kept as account credit (a plan change's), dated 2026-06-10."""
    invoice = InvoiceFactory(tenant=tenant, billing_profile=profile, date=date(2026, 6, 10),
                             due_date=date(2026, 6, 10), total=Decimal(f"-{amount}"), **fields)
    InvoiceLineFactory(invoice=invoice, amount=Decimal(f"-{amount}"), description="Credit")
    return invoice


def unpaid(tenant, *, due: str, profile: BillingProfile | None = None) -> Invoice:
    invoice = InvoiceFactory(tenant=tenant, billing_profile=profile, date=date(2026, 6, 1),
                             due_date=date.fromisoformat(due), total=Decimal("65.65"))
    InvoiceLineFactory(invoice=invoice, amount=Decimal("65.65"))
    return invoice


def mosa(i: int) -> None:
    """Card payers (one with account credit, one with a refund due), invoice payers (one paying on time,
    one never: past due), renewals and expiries, trials."""
    tenant = TenantFactory(domain=f"card{i}.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    SubscriptionFactory(tenant=tenant, licenses=10, payment_method=card, start_date=JAN)
    SubscriptionFactory(tenant=tenant, licenses=3, payment_method=card, start_date=date(2025, 7, 1))  # renews
    SubscriptionFactory(tenant=tenant, licenses=2, payment_method=card, start_date=date(2025, 7, 1),
                        recurring_billing=False)  # expires
    credited = TenantFactory(domain=f"credit{i}.example")
    card = PaymentMethodFactory(tenant=credited, is_default=True)
    SubscriptionFactory(tenant=credited, licenses=10, payment_method=card, start_date=JAN)
    SubscriptionFactory(tenant=credited, licenses=4, payment_method=card, start_date=JAN)
    credit(credited, amount="150.00")  # more than the first invoice: the rest goes on the second
    credit(credited, amount="40.00", payment_method=card, refund=Decimal("40.00"), refund_on=date(2026, 7, 1))
    payer = TenantFactory(domain=f"payer{i}.example")
    SubscriptionFactory(tenant=payer, licenses=5, payment="invoice", start_date=JAN)
    unpaid(payer, due="2026-07-01")  # paid on time
    never = TenantFactory(domain=f"never{i}.example")
    InvoicePayer.objects.create(tenant=never, payment_habit="never")
    SubscriptionFactory(tenant=never, licenses=5, payment="invoice", start_date=JAN)
    unpaid(never, due="2026-06-30")  # past due on 07-01
    trials = TenantFactory(domain=f"trial{i}.example")
    PaymentMethodFactory(tenant=trials, is_default=True)
    SubscriptionFactory(tenant=trials, source="trial", start_date=date(2026, 6, 1))  # converts
    SubscriptionFactory(tenant=trials, source="trial", start_date=date(2026, 6, 1), recurring_billing=False)


def mca(i: int) -> None:
    """A profile with several subscriptions (one joining its August invoice on 07-02) and account credit,
    a second profile paying 5 days late, a trial converting onto it."""
    tenant = TenantFactory(domain=f"mca{i}.example", agreement="MCA")
    profile = BillingProfileFactory(tenant=tenant)
    mca_subscription(profile, licenses=12, start_date=JAN)
    mca_subscription(profile, licenses=5, start_date=JAN, term="P1M", product=product("O365_BUSINESS_ESSENTIALS"))
    mca_subscription(profile, licenses=7, start_date=date(2026, 1, 2))
    credit(tenant, amount="30.00", profile=profile)
    late = BillingProfileFactory(tenant=tenant, payment_habit="late", payment_delay_days=5)
    unpaid(tenant, due="2026-06-26", profile=late)
    mca_subscription(late, licenses=3, source="trial", start_date=date(2026, 6, 1))


def lifecycle(i: int) -> None:
    """An Expired subscription disabled, a Disabled one deleted with its licenses."""
    tenant = TenantFactory(domain=f"ending{i}.example")
    SubscriptionFactory(tenant=tenant, status="expired", status_until=date(2026, 7, 1), billed_until=None)
    gone = SubscriptionFactory(tenant=tenant, status="disabled", status_until=date(2026, 7, 1), billed_until=None)
    for _ in range(2):
        LicenseFactory(subscription=gone)


def world(n: int) -> None:
    for i in range(n):
        mosa(i)
        mca(i)
        lifecycle(i)
