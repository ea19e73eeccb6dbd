"""Billing's writes, one module per kind of edit; every state change locks its rows (the lock order:
``billing.services.locks``) and records an audit event in the same transaction. Other apps call the
names exported here."""

from billing.invoicing import invoice_post_lines, lines_bill
from billing.services.addons import subscription_addon_add, subscription_addon_remove
from billing.services.credit_checks import credit_check_decide, credit_checks_complete_due
from billing.services.edits import (
    CANCEL_ONLINE_MAX_LICENSES,
    subscription_cancel,
    subscription_reactivate,
    subscription_recurring_billing_set,
    subscription_update,
)
from billing.services.licenses import (
    subscription_licenses_change,
    subscription_licenses_join,
    subscription_licenses_keep,
    subscription_licenses_set,
)
from billing.services.locks import (
    subscription_hold,
    subscription_hold_locked,
    subscription_lock,
    subscription_require_free,
    subscriptions_hold_locked,
    subscriptions_lock,
    subscriptions_lock_across,
    subscriptions_lock_all,
    subscriptions_release,
    subscriptions_release_all,
)
from billing.services.payments import (
    invoice_pay,
    invoices_settle,
    payment_chosen,
    payment_habit_set,
    payment_method_add_card,
)
from billing.services.subscriptions import (
    subscription_buy,
    subscription_end_replaced,
    subscription_period_charged,
    subscription_provision,
    subscription_purchase,
    subscription_usage_add,
    subscriptions_end_replaced,
    subscriptions_provision,
    subscriptions_update_charged,
    subscriptions_usage_add,
)
from billing.services.trials import subscription_trial_extend, subscription_trial_purchase

__all__ = [
    "CANCEL_ONLINE_MAX_LICENSES", "credit_check_decide", "credit_checks_complete_due", "invoice_pay",
    "invoices_settle", "payment_habit_set",
    "invoice_post_lines", "lines_bill", "payment_chosen", "payment_method_add_card", "subscription_addon_add",
    "subscription_addon_remove", "subscription_buy", "subscription_cancel", "subscription_end_replaced",
    "subscription_hold", "subscription_hold_locked", "subscription_licenses_change", "subscription_licenses_join",
    "subscription_licenses_keep",
    "subscription_licenses_set", "subscription_lock", "subscription_period_charged", "subscription_provision",
    "subscription_purchase", "subscription_reactivate", "subscription_recurring_billing_set",
    "subscription_require_free", "subscription_trial_extend", "subscription_trial_purchase",
    "subscription_update", "subscription_usage_add", "subscriptions_hold_locked", "subscriptions_lock",
    "subscriptions_lock_across",
    "subscriptions_lock_all",
    "subscriptions_end_replaced", "subscriptions_provision", "subscriptions_release", "subscriptions_release_all",
    "subscriptions_update_charged", "subscriptions_usage_add",
]
