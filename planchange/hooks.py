"""What a plan change does when billing edits a subscription (``billing.hooks``): a change scheduled
for the subscription's renewal is cancelled with it when the subscription is cancelled or won't renew,
and an add-on that would stop that change on its date is refused while it waits."""

from django.utils.translation import gettext as _

from billing.hooks import Edit, SubscriptionEdit
from planchange.models import PlanChange
from planchange.services import scheduled_change_cancel
from planchange.texts import RECURRING_BILLING_OFF, SUBSCRIPTION_CANCELLED
from portal.errors import Conflict
from portal.texts import Text

CANCELS_SCHEDULED = {Edit.CANCEL: SUBSCRIPTION_CANCELLED, Edit.RECURRING_BILLING_OFF: RECURRING_BILLING_OFF}


def scheduled_change_on_edit(edit: SubscriptionEdit) -> None:
    """Registered with billing by ``PlanchangeConfig.ready`` (called with the subscription locked)."""
    sub = edit.subscription
    if edit.edit in CANCELS_SCHEDULED:
        scheduled_change_cancel(subscription_id=sub.pk, actor=edit.actor, reason=Text(CANCELS_SCHEDULED[edit.edit]))
    elif edit.edit == Edit.ADDON_ADD and edit.addon.blocks_plan_change:
        scheduled = (PlanChange.objects.filter(subscription=sub, status=PlanChange.Status.SCHEDULED)
                     .select_related("target_product").first())
        if scheduled is not None:
            raise Conflict(_("The change to %(target)s scheduled for %(date)s can't run with %(addon)s, which "
                             "prevents an automatic plan change. Add it back after the change, or cancel the "
                             "scheduled change first.")
                           % {"target": scheduled.target_product.name, "date": scheduled.scheduled_for.isoformat(),
                              "addon": edit.addon.name}, code="addon_blocks_scheduled_change",
                           plan_change=scheduled.pk)
