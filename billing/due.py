"""What each step of the day's billing finds due (``billing.lifecycle``'s runs take their rows from here, and
``billing.daywork`` asks the same for a whole day first): one filter each, written once."""

from datetime import date

from django.db.models import F

from billing.models import Invoice, Subscription
from portal.selectors import within

Status = Subscription.Status


def periods_due(*, day: date, tenants=None):
    """Active subscriptions whose next period has begun by ``day`` and that no plan change holds."""
    return Subscription.objects.filter(status=Status.ACTIVE, billed_until__lte=day, held_by="", **within(tenants))


def expired_due(*, day: date, tenants=None):
    """Expired subscriptions whose 30 days are up: disabled today."""
    return Subscription.objects.filter(status=Status.EXPIRED, status_until__lte=day, **within(tenants))


def disabled_due(*, day: date, tenants=None):
    """Disabled subscriptions whose 90 days are up: deleted today."""
    return Subscription.objects.filter(status=Status.DISABLED, status_until__lte=day, **within(tenants))


def card_charges_due(*, day: date, tenants=None):
    """Invoices paid by card with a balance, due by ``day``."""
    return Invoice.objects.filter(payment_method__isnull=False, total__gt=F("paid"), due_date__lte=day,
                                  date__lte=day, **within(tenants))


def refunds_due(*, day: date, tenants=None):
    """Net credits to pay back to a card by ``day``."""
    return Invoice.objects.filter(refund__gt=0, refunded=False, refund_on__lte=day, **within(tenants))


def overdue_due(*, day: date, tenants=None):
    """Invoices paid by invoice with a balance left, due before ``day``, whose falling past due isn't told yet:
    whenever their due date passed, so one made already past due (a period billed late) is told too."""
    return Invoice.objects.filter(payment_method__isnull=True, total__gt=F("paid"), past_due_noted=False,
                                  due_date__lt=day, **within(tenants))
