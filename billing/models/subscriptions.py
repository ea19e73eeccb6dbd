"""A tenant's subscriptions, their add-ons, and the facts billing's rules read about them later (add-ons
removed, licenses bought or removed)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.accounts import BillingProfile, PaymentMethod
from billing.models.catalog import MONEY, AddOnProduct, BillingFrequency, PaymentKind, Product, Term
from portal.models import Tenant


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
    replaced_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced",
        help_text="the subscription a completed plan change moved this one's users to (it was cancelled then)",
    )
    trial_ends_on = models.DateField(
        null=True, blank=True,
        help_text="the day a trial ends: on it the trial converts to paid or expires (DESIGN.md \"Time\"); for a trial "
                  "that ended, the day it did; empty for what never was a trial",
    )
    trial_extended = models.BooleanField(
        default=False, help_text="the trial was extended by 30 days (Extend your trial: once only)",
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
                condition=~Q(term=Term.P1M, billing_frequency=BillingFrequency.ANNUAL),
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


class RemovedAddOn(models.Model):
    """An add-on removed from a subscription: it can be added back later, to the subscription or to the
    one a plan change replaced it with (Microsoft: "you can add it back later if you still need it")."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="removed_addons")
    addon = models.ForeignKey(AddOnProduct, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField(help_text="simulation time")

    class Meta:
        indexes = [models.Index(fields=["subscription", "addon"])]

    def __str__(self):
        return f"{self.addon} removed from {self.subscription_id}"


class LicenseChange(models.Model):
    """Licenses bought or removed on a subscription at once (not those waiting for a renewal): an MCA
    subscription removes licenses bought in the last 7 days at once."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="license_changes")
    changed_at = models.DateTimeField(help_text="simulation time")
    licenses_before = models.IntegerField()
    licenses_after = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["subscription", "changed_at"])]

    def __str__(self):
        return f"{self.subscription_id}: {self.licenses_before} → {self.licenses_after}"
