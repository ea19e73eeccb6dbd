"""Invoices with their lines, and credit checks."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.accounts import BillingProfile, PaymentMethod
from billing.models.catalog import MONEY
from billing.models.subscriptions import Subscription
from portal.models import Tenant


class Invoice(models.Model):
    """A bill. Its total is the sum of its lines; a credit is a negative line."""

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        UNPAID = "unpaid", _("Unpaid")
        OVERDUE = "overdue", _("Past due")
        CREDIT = "credit", _("Credit")
        UPCOMING = "upcoming", _("Upcoming")  # dated later: lines may still arrive, not payable yet
        REFUNDED = "refunded", _("Refunded")  # a net credit paid back to the card

    # No index of its own: (tenant, due_date) below serves every read by tenant and the cascade (one write fewer
    # for each of the invoices a clock move makes, some 300 a busy day).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invoices", db_index=False)
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
    past_due_noted = models.BooleanField(
        default=False, help_text="of an invoice paid by invoice: its falling past due was told (invoice.overdue), or "
        "was already known when it came (a scenario's, one from before this was kept); cleared when it is paid in "
        "full, so it is told once each time it falls past due",
    )

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["tenant", "due_date"]),
            # The day loop's daily questions stay small as years of paid invoices pile up: what is unpaid
            # (card charges, payments by habit, the next day a card or a payer pays) and which
            # refunds are on their way.
            models.Index(fields=["due_date"], condition=Q(total__gt=models.F("paid")), name="invoice_unpaid_due"),
            models.Index(fields=["refund_on"], condition=Q(refund__gt=0, refunded=False),
                         name="invoice_refund_pending"),
            # A payer's account credit, which each new invoice takes (billing.period_invoices, billing.invoicing):
            # a tenant's few credit invoices, not its years of others.
            models.Index(fields=["tenant"], condition=Q(total__lt=0), name="invoice_credit"),
            # Those whose falling past due is still to be told (billing.due.overdue_due): few, however many
            # invoices of payers who never pay stay unpaid and past due for years.
            models.Index(fields=["due_date"], condition=Q(total__gt=models.F("paid"), payment_method__isnull=True,
                                                          past_due_noted=False), name="invoice_past_due_untold"),
        ]
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

    # Paid in full (Pay now, Settle balance, a payer's habit): a fall past due it was told is behind it, so a line
    # joining it late, which leaves it unpaid again, makes it fall past due anew (told once more).
    PAID_IN_FULL = {"paid": models.F("total"), "past_due_noted": False}

    def paid_in_full(self) -> list[str]:
        """``PAID_IN_FULL`` on this instance; the fields to save."""
        self.paid, self.past_due_noted = self.total, False
        return ["paid", "past_due_noted"]

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
                condition=Q(status=CreditCheckStatus.PENDING, decided_on__isnull=True)
                | (~Q(status=CreditCheckStatus.PENDING) & Q(decided_on__isnull=False)),
                name="creditcheck_decided_iff_not_pending",
            ),
        ]

    def __str__(self):
        return f"credit check {self.status} ({self.requested})"
