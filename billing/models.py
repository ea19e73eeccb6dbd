"""The catalog, subscriptions, billing profiles, payment methods, invoices and credit
checks."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.inputs import LICENSES_MAX
from portal.models import Service, Tenant

# Wide enough for any order the input bounds allow (1,000,000 licenses × the dearest offer × 36
# months) summed on one invoice many times over.
MONEY = {"max_digits": 18, "decimal_places": 2}


class Term(models.TextChoices):
    P1M = "P1M", _("1 month")
    P1Y = "P1Y", _("1 year")
    P3Y = "P3Y", _("3 years")


class BillingFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    ANNUAL = "annual", _("Annual")


class PaymentKind(models.TextChoices):
    CARD = "card", _("Credit or debit card")
    INVOICE = "invoice", _("Invoice")


# --- Catalog ---------------------------------------------------------------


class ServicePlan(models.Model):
    """A service plan inside a product (Graph's servicePlanName)."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=32, choices=Service.choices)
    level = models.PositiveSmallIntegerField()
    data_related = models.BooleanField()

    class Meta:
        ordering = ["service", "level"]
        constraints = [
            models.UniqueConstraint(fields=["service", "level"], name="serviceplan_level_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="serviceplan_level_positive"),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    """A product (Graph's subscribedSku): its SKU and the service plans it includes."""

    sku = models.CharField(max_length=64, unique=True, help_text="skuPartNumber")
    sku_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=64, help_text="product family, for ordering upgrades")
    service_plans = models.ManyToManyField(ServicePlan, related_name="products")
    annual_price = models.DecimalField(
        **MONEY, help_text="per user per month with an annual commitment (USD)")
    monthly_price = models.DecimalField(
        **MONEY, help_text="per user per month with a monthly commitment (USD)")
    max_licenses = models.PositiveIntegerField(null=True, blank=True)
    price_is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["family", "annual_price"]
        constraints = [
            models.CheckConstraint(condition=Q(annual_price__gt=0), name="product_price_positive"),
        ]

    def __str__(self):
        return self.name

    @property
    def licenses_limit(self) -> int:
        """The most licenses one subscription may have: the product's maximum, or the bound every
        door keeps (``portal.inputs.LICENSES_MAX``) where it has none."""
        return self.max_licenses if self.max_licenses is not None else LICENSES_MAX


class Offer(models.Model):
    """A product sold for a term and billing frequency, at a price per user per month."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="offers")
    term = models.CharField(max_length=3, choices=Term.choices)
    billing_frequency = models.CharField(max_length=8, choices=BillingFrequency.choices)
    price = models.DecimalField(**MONEY, help_text="per user per month (USD)")

    class Meta:
        ordering = ["product", "term", "billing_frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "term", "billing_frequency"], name="offer_unique"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="offer_price_positive"),
        ]

    def __str__(self):
        return f"{self.product.sku} {self.term}/{self.billing_frequency} {self.price}"


ADDON_CODE = r"[A-Z0-9_]{1,64}"  # what an add-on's code is made of (the catalog's codes, the API's input)


class AddOnProduct(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    blocks_plan_change = models.BooleanField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


# --- A tenant's billing ----------------------------------------------------


class BillingProfile(models.Model):
    """An MCA tenant's billing profile: invoices are issued per profile, monthly."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="billing_profiles")
    name = models.CharField(max_length=200)
    payment = models.CharField(max_length=8, choices=PaymentKind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="billingprofile_name_unique"),
        ]

    def __str__(self):
        return self.name


class PaymentMethod(models.Model):
    """A card (only its last four digits are kept) or payment by invoice."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="payment_methods")
    kind = models.CharField(max_length=8, choices=PaymentKind.choices)
    last4 = models.CharField(max_length=4, blank=True)
    holder_name = models.CharField(max_length=200, blank=True)
    expiry_month = models.PositiveSmallIntegerField(null=True, blank=True)
    expiry_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_default=True),
                name="paymentmethod_one_default_per_tenant",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice") | Q(last4__regex=r"^[0-9]{4}$"),
                name="paymentmethod_card_has_last4",
            ),
        ]

    def __str__(self):
        if self.kind == PaymentKind.CARD:
            return f"Card ending {self.last4}"
        return str(_("Invoice"))


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    DISABLED = "disabled", _("Disabled")
    DELETED = "deleted", _("Deleted")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(models.Model):
    """A tenant's subscription to a product: licenses bought, term, billing."""

    Status = SubscriptionStatus

    class Provisioning(models.TextChoices):
        PROVISIONED = "provisioned", _("Provisioned")
        PROVISIONING = "provisioning", _("Provisioning")

    class Source(models.TextChoices):
        DIRECT = "direct", _("Bought directly")
        TRIAL = "trial", _("Trial")
        PRODUCT_KEY = "product_key", _("Prepaid with a product key")
        RESELLER = "reseller", _("Bought through a reseller")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="subscriptions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    licenses = models.IntegerField(help_text="licenses bought")
    term = models.CharField(max_length=3, choices=Term.choices)
    billing_frequency = models.CharField(max_length=8, choices=BillingFrequency.choices)
    start_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    provisioning = models.CharField(
        max_length=12, choices=Provisioning.choices, default=Provisioning.PROVISIONED
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.DIRECT)
    payment = models.CharField(max_length=8, choices=PaymentKind.choices, default=PaymentKind.CARD)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True,
        related_name="subscriptions",
    )
    billing_profile = models.ForeignKey(
        BillingProfile, on_delete=models.PROTECT, null=True, blank=True,
        related_name="subscriptions",
    )
    recurring_billing = models.BooleanField(default=True)
    cancelled_on = models.DateField(null=True, blank=True)
    status_until = models.DateField(
        null=True, blank=True,
        help_text="when the next lifecycle stage starts: Expired → Disabled → Deleted (DESIGN.md \"Time\")",
    )
    billed_until = models.DateField(
        null=True, blank=True,
        help_text="end (exclusive) of the last billing period charged: the next period starts here; "
                  "empty for a subscription that is no longer billed",
    )
    billed_amount = models.DecimalField(
        **MONEY, null=True, blank=True,
        help_text="what the last period charged (billed_until's period) cost: a credit never exceeds it",
    )
    provisioning_until = models.DateTimeField(
        null=True, blank=True, help_text="simulation time when a subscription being set up is provisioned",
    )
    licenses_at_renewal = models.IntegerField(
        null=True, blank=True,
        help_text="licenses to remove at the renewal: the count it renews with (MCA removes at once only within "
                  "7 days of the purchase or renewal); empty when none is scheduled",
    )
    assigned_licenses = models.IntegerField(
        default=0,
        help_text="licenses assigned to users (Graph's consumedUnits); licensing's services keep it "
                  "through subscription_usage_add, in the transaction that assigns or removes them",
    )
    held_by = models.CharField(
        max_length=64, blank=True, default="",
        help_text="who holds the subscription read-only while changing it (plan_change/<id>); empty when free",
    )
    order_token = models.UUIDField(
        null=True, blank=True, editable=False,
        help_text="the one-time token of the Purchase services form that bought it: the same form sent again "
                  "finds this subscription instead of buying another",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    addons = models.ManyToManyField(AddOnProduct, through="SubscriptionAddOn", blank=True)

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [models.Index(fields=["tenant", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(licenses__gte=0), name="subscription_licenses_nonnegative"),
            models.CheckConstraint(condition=Q(assigned_licenses__gte=0), name="subscription_assigned_nonnegative"),
            models.CheckConstraint(condition=Q(status__in=SubscriptionStatus.values), name="subscription_status_valid"),
            models.CheckConstraint(condition=Q(term__in=Term.values), name="subscription_term_valid"),
            models.CheckConstraint(
                condition=Q(billing_frequency__in=BillingFrequency.values),
                name="subscription_frequency_valid",
            ),
            models.CheckConstraint(
                condition=~Q(term="P1M", billing_frequency="annual"),
                name="subscription_p1m_billed_monthly",
            ),
            models.UniqueConstraint(fields=["tenant", "order_token"], name="subscription_order_token_unique"),
        ]

    def __str__(self):
        return f"{self.product.name} ({self.tenant.domain})"

    @property
    def paying_card(self) -> "PaymentMethod | None":
        """The card that pays for this subscription (charged, and refunded a net credit), if it is paid by card."""
        return self.payment_method if self.payment == PaymentKind.CARD and self.payment_method_id else None

    @property
    def users_keep_service(self) -> bool:
        """Active and Expired: users keep using the product; Disabled: only admins reach the data."""
        return self.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED)

    @property
    def users_access(self) -> str:
        """What users still have (CONTRACT.md): ``full``, ``admins_only`` (Disabled: admins keep the data)
        or ``none`` (Deleted, or cancelled when a plan change replaced it)."""
        if self.users_keep_service:
            return "full"
        return "admins_only" if self.status == SubscriptionStatus.DISABLED else "none"

    @property
    def available_licenses(self) -> int:
        """Licenses bought and not assigned."""
        return max(self.licenses - self.assigned_licenses, 0)

    @property
    def change_in_progress(self) -> bool:
        """Held read-only by a change that is queued or running (CONTRACT.md)."""
        return bool(self.held_by)


class SubscriptionAddOn(models.Model):
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="subscription_addons"
    )
    addon = models.ForeignKey(AddOnProduct, on_delete=models.PROTECT)
    added_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "addon"], name="addon_once_per_subscription"),
        ]

    def __str__(self):
        return f"{self.addon} on {self.subscription}"


class Invoice(models.Model):
    """A bill. Its total is the sum of its lines; a credit is a negative line."""

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        UNPAID = "unpaid", _("Unpaid")
        OVERDUE = "overdue", _("Past due")
        CREDIT = "credit", _("Credit")
        UPCOMING = "upcoming", _("Upcoming")  # dated later: lines may still arrive, not payable yet
        REFUNDED = "refunded", _("Refunded")  # a net credit paid back to the card

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invoices")
    billing_profile = models.ForeignKey(
        BillingProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    number = models.CharField(max_length=32, unique=True)
    date = models.DateField()
    due_date = models.DateField()
    total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    paid = models.DecimalField(**MONEY, default=Decimal("0.00"))
    period_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True,
        help_text="set on a billing profile's monthly invoice (profile/<id>/<YYYY-MM>): one per month",
    )
    credit_used = models.DecimalField(
        **MONEY, default=Decimal("0.00"), help_text="of a credit invoice: how much later invoices have used"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices",
        help_text="the card charged on the due date (the day after the invoice), or refunded a net credit",
    )
    refund = models.DecimalField(
        **MONEY, default=Decimal("0.00"), help_text="of a credit invoice paid by card: refunded to the card",
    )
    refund_on = models.DateField(null=True, blank=True, help_text="when the refund reaches the card")
    refunded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["tenant", "due_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(paid__gte=0), name="invoice_paid_nonnegative"),
            models.CheckConstraint(
                condition=Q(total__lt=0) | Q(paid__lte=models.F("total")),
                name="invoice_not_overpaid",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("date")), name="invoice_due_after_date"
            ),
            models.CheckConstraint(
                condition=Q(credit_used__gte=0) & (Q(credit_used=0) | Q(total__lt=0)),
                name="invoice_credit_used_only_of_credits",
            ),
            models.CheckConstraint(
                condition=Q(refund=0) | (Q(total__lt=0) & Q(refund__gt=0) & Q(refund_on__isnull=False)),
                name="invoice_refund_only_of_credits",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def balance(self) -> Decimal:
        return max(self.total - self.paid, Decimal("0.00"))

    @property
    def credit_left(self) -> Decimal:
        """Of a credit invoice: account credit not yet applied to a later invoice."""
        return max(-self.total - self.credit_used - self.refund, Decimal("0.00"))

    def status_on(self, day) -> str:
        if self.total < 0:
            return self.Status.REFUNDED if self.refunded else self.Status.CREDIT
        if self.date > day:
            return self.Status.UPCOMING
        if self.balance == 0:
            return self.Status.PAID
        return self.Status.OVERDUE if self.due_date < day else self.Status.UNPAID


class InvoiceLine(models.Model):
    """A line of an invoice. Its text is rendered in the reader's language from ``text`` (a key of
    ``portal.texts``) and ``params``; ``description`` is the same text in English, for the API and for
    lines older than their key (or typed by a scenario), which show it as it is."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=300, help_text="the line's text in English (the API's)")
    text = models.CharField(max_length=64, blank=True, default="",
                            help_text="the key of its text in portal.texts; empty: show the description")
    params = models.JSONField(default=dict, blank=True, help_text="what the text is made of (names, counts, dates)")
    amount = models.DecimalField(**MONEY)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines"
    )
    idempotency_key = models.CharField(
        max_length=100, null=True, blank=True, unique=True,
        help_text="who issued this line and why (plan_change/<id>/credit): a line is never issued twice",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="invoiceline_period_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.description}: {self.amount}"


class CreditCheckStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class CreditCheck(models.Model):
    """A credit check on the tenant; takes up to two business days."""

    Status = CreditCheckStatus

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="credit_checks")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    requested = models.DateField()
    decided_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-requested", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CreditCheckStatus.values), name="creditcheck_status_valid"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_on__isnull=True)
                | (~Q(status="pending") & Q(decided_on__isnull=False)),
                name="creditcheck_decided_iff_not_pending",
            ),
        ]

    def __str__(self):
        return f"credit check {self.status} ({self.requested})"
