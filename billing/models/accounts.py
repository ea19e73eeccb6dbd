"""How a tenant pays: MCA billing profiles and payment methods."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.catalog import PaymentKind
from portal.models import Tenant


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
                condition=Q(kind=PaymentKind.INVOICE) | Q(last4__regex=r"^[0-9]{4}$"),
                name="paymentmethod_card_has_last4",
            ),
        ]

    def __str__(self):
        if self.kind == PaymentKind.CARD:
            return f"Card ending {self.last4}"
        return str(_("Invoice"))
