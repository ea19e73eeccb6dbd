"""Add-ons removed and added back ("you can add it back later if you still need it")."""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.hooks import Edit, SubscriptionEdit, subscription_edited
from billing.models import ADDON_CODE, AddOnProduct, RemovedAddOn, Subscription, SubscriptionAddOn
from billing.selectors import addons_restorable
from billing.services.locks import subscription_lock, subscription_require_free
from billing.verbs import SUBSCRIPTION_ADDON_ADDED, SUBSCRIPTION_ADDON_REMOVED
from portal import clock
from portal.errors import Conflict, NotFound
from portal.services import event_record


def _addon_code_plain(code) -> bool:
    """A code the catalog could have: the services hold this bound whatever door called them."""
    return isinstance(code, str) and re.fullmatch(ADDON_CODE, code) is not None


@transaction.atomic
def subscription_addon_remove(*, tenant, subscription_id, code: str, actor: str) -> None:
    """Remove an add-on ("you can add it back later if you still need it")."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    present = (SubscriptionAddOn.objects.filter(subscription=sub, addon__code=code).select_related("addon").first()
               if _addon_code_plain(code) else None)
    if present is None:
        raise NotFound(_("The subscription has no add-on %(code)s.") % {"code": code}, code="addon_not_found")
    present.delete()
    RemovedAddOn.objects.create(subscription=sub, addon=present.addon, removed_at=clock.now())
    event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_ADDON_REMOVED, obj=sub, data={"addon": code})


@transaction.atomic
def subscription_addon_add(*, tenant, subscription_id, code: str, actor: str) -> Subscription:
    """Add an add-on back ("you can add it back later if you still need it"): only an active
    subscription, only an add-on it doesn't have, and only one it had before (removed from it, or
    from the subscriptions a plan change replaced with it: ``billing.selectors.addons_restorable``).
    An add-on that blocks a plan change blocks it again (an app above may refuse it: ``billing.hooks``)."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    if sub.status != Subscription.Status.ACTIVE:
        raise Conflict(_("Add-ons can be added back only to an active subscription."), code="subscription_not_active")
    addon = AddOnProduct.objects.filter(code=code).first() if _addon_code_plain(code) else None
    if addon is None:
        raise NotFound(_("There is no add-on %(code)s.") % {"code": str(code)[:64]}, code="addon_not_found")
    if SubscriptionAddOn.objects.filter(subscription=sub, addon=addon).exists():
        raise Conflict(_("%(product)s already has %(addon)s.") % {"product": sub.product.name, "addon": addon.name},
                       code="addon_present_already")
    restorable = addons_restorable(subscription=sub)
    if addon not in restorable:
        raise Conflict(_("%(addon)s can't be added back to %(product)s: only an add-on removed from this "
                         "subscription, or from the one a plan change replaced with it, can be added back.")
                       % {"addon": addon.name, "product": sub.product.name}, code="addon_not_restorable",
                       can_add_back=[a.code for a in restorable])
    subscription_edited(SubscriptionEdit(Edit.ADDON_ADD, sub, actor, addon=addon))
    try:
        with transaction.atomic():
            SubscriptionAddOn.objects.create(subscription=sub, addon=addon, added_on=clock.today())
    except IntegrityError as exc:  # the row lock makes this a backstop: the database keeps one per subscription
        raise Conflict(_("%(product)s already has %(addon)s.") % {"product": sub.product.name, "addon": addon.name},
                       code="addon_present_already") from exc
    event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_ADDON_ADDED, obj=sub,
                 data={"addon": code, "blocks_plan_change": addon.blocks_plan_change})
    sub.addon_added = addon
    return sub
