"""The audit verbs billing records (``portal.services.event_record``), each registered with what it says
(``billing/texts.py`` ``EVENTS``): a verb is written here once and nowhere as a string literal."""

from billing.models import CreditCheckStatus

CREDIT_CHECK_APPROVED = "credit_check.approved"
CREDIT_CHECK_REJECTED = "credit_check.rejected"
INVOICE_CREATED = "invoice.created"
INVOICE_LINES_ADDED = "invoice.lines_added"
INVOICE_OVERDUE = "invoice.overdue"
INVOICE_PAID = "invoice.paid"
INVOICE_REFUNDED = "invoice.refunded"
PAYMENT_HABIT_CHANGED = "payment_habit.changed"
PAYMENT_METHOD_ADDED = "payment_method.added"
SUBSCRIPTION_ADDON_ADDED = "subscription.addon_added"
SUBSCRIPTION_ADDON_REMOVED = "subscription.addon_removed"
SUBSCRIPTION_BOUGHT = "subscription.bought"
SUBSCRIPTION_CANCELLED = "subscription.cancelled"
SUBSCRIPTION_DELETED = "subscription.deleted"
SUBSCRIPTION_DISABLED = "subscription.disabled"
SUBSCRIPTION_EXPIRED = "subscription.expired"
SUBSCRIPTION_LICENSES_CHANGED = "subscription.licenses_changed"
SUBSCRIPTION_LICENSES_REMOVAL_CANCELLED = "subscription.licenses_removal_cancelled"
SUBSCRIPTION_LICENSES_REMOVAL_SCHEDULED = "subscription.licenses_removal_scheduled"
SUBSCRIPTION_PROVISIONED = "subscription.provisioned"
SUBSCRIPTION_PROVISIONING_FINISHED = "subscription.provisioning_finished"
SUBSCRIPTION_REACTIVATED = "subscription.reactivated"
SUBSCRIPTION_RECURRING_BILLING_CHANGED = "subscription.recurring_billing_changed"
SUBSCRIPTION_RENEWED = "subscription.renewed"
SUBSCRIPTION_TRIAL_CONVERTED = "subscription.trial_converted"
SUBSCRIPTION_TRIAL_EXPIRED = "subscription.trial_expired"
SUBSCRIPTION_TRIAL_EXTENDED = "subscription.trial_extended"
SUBSCRIPTION_TRIAL_PURCHASED = "subscription.trial_purchased"

# A credit check decided, by its new status.
CREDIT_CHECK_DECIDED = {CreditCheckStatus.APPROVED: CREDIT_CHECK_APPROVED,
                        CreditCheckStatus.REJECTED: CREDIT_CHECK_REJECTED}
