"""How a tenant pays: MCA billing profiles and payment methods."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.catalog import PaymentKind
from portal.models import Tenant


class PaymentHabit(models.TextChoices):
    """How a simulated payer pays its invoices (the day loop pays them by it)."""

    ON_TIME = "on_time", _("Pays on the due date")
    LATE = "late", _("Pays late")
    NEVER = "never", _("Never pays")


PAYMENT_DELAY_MAX_DAYS = 365


class PaysByHabit(models.Model):
    """A payer of invoices and its habit: ``on_time`` pays on the due date, ``late`` ``payment_delay_days``
    (1 to 365) after it, ``never`` leaves them to the admin's Pay now / Settle balance."""

    payment_habit = models.CharField(max_length=8, choices=PaymentHabit.choices, default=PaymentHabit.ON_TIME)
    payment_delay_days = models.PositiveSmallIntegerField(
        default=0, help_text="of a late payer: how many days after the due date it pays (1 to 365)")

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=(Q(payment_habit=PaymentHabit.LATE, payment_delay_days__gte=1,
                             payment_delay_days__lte=PAYMENT_DELAY_MAX_DAYS)
                           | Q(payment_habit__in=(PaymentHabit.ON_TIME, PaymentHabit.NEVER), payment_delay_days=0)),
                name="%(class)s_payment_habit_valid",
            ),
        ]


class BillingProfile(PaysByHabit):
    """An MCA tenant's billing profile: invoices are issued per profile, monthly."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="billing_profiles")
    name = models.CharField(max_length=200)
    payment = models.CharField(max_length=8, choices=PaymentKind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            *PaysByHabit.Meta.constraints,
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


class InvoicePayer(PaysByHabit):
    """A tenant as the payer of its invoices that no billing profile pays (a MOSA invoice payer's): its
    habit. No row: on time."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="invoice_payer")

    class Meta:
        constraints = [*PaysByHabit.Meta.constraints]

    def __str__(self):
        return f"{self.tenant}: {self.get_payment_habit_display()}"
