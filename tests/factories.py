"""factory_boy factories for the domain (STYLE.md: factories, not fixture files)."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.models import (
    AddOnProduct,
    BillingProfile,
    CreditCheck,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Product,
    Subscription,
)
from billing.periods import period_end
from billing.services import subscription_hold, subscription_usage_add
from billing.trials import trial_end_for
from licensing.models import DirectoryUser, LicenseAssignment
from planchange.models import PlanChange
from portal import clock, tokens
from portal.models import AdminMembership, ApiToken, ServiceIncident, Tenant


def product(sku: str) -> Product:
    return Product.objects.get(sku=sku)


def addon(code: str) -> AddOnProduct:
    return AddOnProduct.objects.get(code=code)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    domain = factory.Sequence(lambda n: f"tenant{n}.example")


class LoginFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"admin{n}@example.com")
    password = factory.django.Password("pw-for-tests")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminMembership

    user = factory.SubFactory(LoginFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = "global_admin"


def admin_of(tenant: Tenant, role: str = "global_admin"):
    return MembershipFactory(tenant=tenant, role=role).user


def token_for(user) -> str:
    """A working API token of this login, the same one on every call while it is live (as DRF's one
    token per login was): a fixed key per login, stored hashed like any token, with no audit event
    (the test's own actions are what its events show)."""
    n = 0
    while True:
        key = f"test-token-{user.pk}-{n}"
        token = ApiToken.objects.filter(digest=tokens.digest(key)).first()
        if token is None:
            ApiToken.objects.create(user=user, name="default", key_id=tokens.key_id(key), digest=tokens.digest(key),
                                    created_at=timezone.now())
            return key
        if token.status_at(timezone.now()) == ApiToken.Status.ACTIVE:
            return key
        n += 1


class PaymentMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentMethod

    tenant = factory.SubFactory(TenantFactory)
    kind = "card"
    last4 = "4242"


class BillingProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingProfile

    tenant = factory.SubFactory(TenantFactory, agreement="MCA")
    name = factory.Sequence(lambda n: f"Billing profile {n}")
    payment = "invoice"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    tenant = factory.SubFactory(TenantFactory)
    product = factory.LazyFunction(lambda: product("O365_BUSINESS_PREMIUM"))
    licenses = 25
    term = "P1Y"
    billing_frequency = "monthly"
    start_date = dt.date(2026, 1, 1)
    status = "active"
    source = "direct"
    # The period the clock is in counts as billed (as a scenario's subscriptions do); the next is
    # charged when the clock reaches it. A trial isn't billed: it ends a month after its start.
    billed_until = factory.LazyAttribute(lambda o: period_end(
        start=o.start_date, billing_frequency=o.billing_frequency, term=o.term,
        begin=max(clock.today(), o.start_date)) if o.status == "active" and o.source != "trial" else None)
    trial_ends_on = factory.LazyAttribute(lambda o: trial_end_for(o.start_date) if o.source == "trial" else None)


class DirectoryUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DirectoryUser

    tenant = factory.SubFactory(TenantFactory)
    upn = factory.LazyAttributeSequence(lambda o, n: f"user{n}@{o.tenant.domain}")
    display_name = factory.Sequence(lambda n: f"User {n}")


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenseAssignment

    subscription = factory.SubFactory(SubscriptionFactory)
    user = factory.LazyAttribute(lambda o: DirectoryUserFactory(tenant=o.subscription.tenant))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """A license as a scenario states it (no role or capacity check), with billing's count kept."""
        assignment = super()._create(model_class, *args, **kwargs)
        subscription_usage_add(subscription=assignment.subscription, delta=1)
        return assignment


def licenses_bulk(subscription, users, **fields) -> None:
    """Give each user a license of the subscription in one insert (for big tenants), counted."""
    LicenseAssignment.objects.bulk_create(LicenseAssignment(user=u, subscription=subscription, **fields)
                                          for u in users)
    subscription_usage_add(subscription=subscription, delta=len(users))


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    tenant = factory.SubFactory(TenantFactory)
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    date = dt.date(2026, 5, 1)
    due_date = dt.date(2026, 5, 31)


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    description = "Charge"
    amount = "10.00"


class CreditCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditCheck

    tenant = factory.SubFactory(TenantFactory)
    requested = dt.date(2026, 6, 12)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceIncident

    tenant = factory.SubFactory(TenantFactory)
    service = "exchange"
    status = "serviceDegradation"
    title = "Mail delays"
    opened_at = factory.LazyFunction(clock.now)


class PlanChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanChange
        skip_postgeneration_save = True

    subscription = factory.SubFactory(SubscriptionFactory)
    tenant = factory.LazyAttribute(lambda o: o.subscription.tenant)
    target_product = factory.LazyFunction(lambda: product("SPB"))
    licenses = 25
    term = "P1Y"
    billing_frequency = "monthly"
    status = "queued"
    requested_at = factory.LazyFunction(clock.now)

    @factory.post_generation
    def hold(change, create, extracted, **kwargs):
        """A change that is queued or running holds its subscription read-only, as requesting it would."""
        if create and change.status in ("queued", "running"):
            subscription_hold(tenant=change.tenant, subscription_id=change.subscription_id, holder=change.holder)


def mca_subscription(profile, **fields):
    """A subscription of an MCA tenant's ``profile``: paid by invoice through the billing profile, no card
    (Business Standard unless ``product`` says otherwise)."""
    return SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", payment_method=None,
                               **fields)


def mosa_standard(*, users: int = 0, licenses: int = 25, name: str = "Contoso", domain: str = "contoso.example"):
    """The worked example's tenant: MOSA, a default card ending 4242, Business Standard P1Y
    billed monthly from 2026-01-01 with ``licenses`` licenses, ``users`` of them assigned.
    Returns (tenant, card, subscription, users)."""
    tenant = TenantFactory(name=name, domain=domain)
    card = PaymentMethodFactory(tenant=tenant, last4="4242", is_default=True)
    subscription = SubscriptionFactory(tenant=tenant, licenses=licenses, payment_method=card)
    licensed = [LicenseFactory(subscription=subscription).user for _ in range(users)]
    return tenant, card, subscription, licensed


def webhook_endpoint(tenant, *, url: str = "https://hooks.contoso.example/portal", events=None, **fields):
    """A webhook endpoint with a fresh secret (``Endpoint`` rows are the webhooks app's; made here
    without the URL checks, as a scenario would)."""
    from webhooks.events import TYPES
    from webhooks.models import Endpoint
    from webhooks.services import secret_new

    return Endpoint.objects.create(tenant=tenant, url=url, events=list(events or TYPES), secret=secret_new(), **fields)
