"""What apps above billing do when a subscription is edited (STYLE.md 15).

Billing owns every subscription edit: cancel, recurring billing, licenses, add-ons. An app above it
that must act on an edit (planchange cancels a change scheduled for the subscription's renewal, or
refuses an add-on that would stop it) registers a listener here from its ``AppConfig.ready()``, so
billing imports none of them and there is one path for each edit, whichever door (page, API,
worker) called it. Billing tells each listener inside the transaction that edits, with the
subscription locked and billing's own checks passed; a listener refuses the edit by raising a
``DomainError``, which rolls the whole edit back.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from billing.models import AddOnProduct, Subscription


class Edit(StrEnum):
    CANCEL = "cancel"  # the subscription is cancelled (it goes to Disabled)
    RECURRING_BILLING_OFF = "recurring_billing_off"  # it won't renew
    ADDON_ADD = "addon_add"  # an add-on is added back (``addon``)


@dataclass(frozen=True)
class SubscriptionEdit:
    edit: Edit
    subscription: Subscription
    actor: str
    addon: AddOnProduct | None = None


SUBSCRIPTION_EDIT_LISTENERS: list[Callable[[SubscriptionEdit], None]] = []


def subscription_edited(edit: SubscriptionEdit) -> None:
    """Tell every listener of an edit about to be written (call with the subscription locked)."""
    for listener in SUBSCRIPTION_EDIT_LISTENERS:
        listener(edit)
