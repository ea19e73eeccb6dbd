"""One user's licenses added and removed at once, by product (Microsoft Graph's ``assignLicense``).

Everything in one transaction, so a swap (add one product, remove another) leaves nobody unlicensed, and
every rule of the portal holds: the subscriptions are locked in the one lock order and refused while a
change holds them (409 ``change_in_progress``), a license comes only from an active, set-up subscription
with one free, billing's counts are kept, and one audit event says what changed (and through which door);
a call that changes nothing records nothing.

**Which subscription a product's license comes from** (a tenant may have several of one product): the
one the user holds already (re-adding a product the user has changes its turned-off plans); otherwise
the first of the tenant's subscriptions of the product, by id (the oldest), that is active, set up, not
held by a plan change and has a license free.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Product, Subscription
from billing.services import subscription_require_free, subscription_usage_add, subscriptions_lock
from licensing.models import DirectoryUser, LicenseAssignment
from licensing.plans import plans_of
from licensing.selectors import USER_MISSING
from licensing.services import require_available, require_set_up
from licensing.verbs import LICENSES_CHANGED
from portal.errors import DomainError, short_list
from portal.models import Tenant
from portal.services import event_record


@dataclass
class LicensesChange:
    """What to do to one user's licenses: ``add`` product id → the names of the service plans to turn off
    (Microsoft's ``MicrosoftServicePlan.name``, or the tenant's ``OtherServicePlan.name``: ``licensing.plans``);
    ``remove`` the product ids whose license goes."""

    add: dict[int, list[str]] = field(default_factory=dict)
    remove: list[int] = field(default_factory=list)


def _require_plans_of(tenant: Tenant, product: Product, disabled: list[str]) -> None:
    """Each plan to turn off is one of the product's: Microsoft's, or the tenant's others (``licensing.plans``)."""
    if not disabled:
        return
    unknown = sorted(set(disabled) - set(plans_of(tenant=tenant, products=[product])[product.pk]))
    if unknown:
        raise DomainError(_("%(product)s has no service plan %(plans)s.")
                          % {"product": product.name, "plans": short_list(unknown)},
                          code="service_plan_not_in_product", plans=unknown)


def _require_usage_location(user: DirectoryUser) -> None:
    if not user.usage_location:
        raise DomainError(_("%(upn)s has no usage location: set where the user uses the services before "
                            "assigning a license.") % {"upn": user.upn}, code="usage_location_required")


def _source(subs: list[Subscription], product: Product) -> Subscription:
    """The subscription a new license of ``product`` comes from (the module's rule), or why none can give one."""
    usable = [s for s in subs if s.product_id == product.pk and s.status == Subscription.Status.ACTIVE]
    if not usable:
        raise DomainError(_("Your organization has no active subscription of %(product)s.") % {"product": product.name},
                          code="product_not_owned", product=product.sku)
    set_up = [s for s in usable if s.provisioning == Subscription.Provisioning.PROVISIONED]
    if not set_up:
        require_set_up(usable[0])
    free = [s for s in set_up if not s.held_by]
    if not free:
        subscription_require_free(set_up[0])
    for sub in free:
        if sub.licenses > sub.assigned_licenses:
            return sub
    require_available(free[0], 1)
    return free[0]


def _removed(user: DirectoryUser, held: dict, products: dict, remove: list[int]) -> list[dict]:
    """The user's licenses of ``remove`` taken away (each product once: Graph's door refuses a list naming one
    twice), or why not; what was removed, for the audit event."""
    missing = sorted(products[pk].name for pk in remove if pk not in held)
    if missing:
        raise DomainError(_("%(upn)s has no license of %(products)s.") % {"upn": user.upn,
                                                                            "products": ", ".join(missing)},
                          code="user_not_licensed", users=[user.upn])
    removed = []
    for product_id in dict.fromkeys(remove):
        assignment = held[product_id]
        subscription_require_free(assignment.subscription)
        assignment.delete()
        subscription_usage_add(subscription=assignment.subscription, delta=-1)
        removed.append({"subscription": assignment.subscription_id, "sku": products[product_id].sku})
    return removed


@transaction.atomic
def user_licenses_change(*, tenant: Tenant, user_id: int, change: LicensesChange, actor: str,
                         via: str = "") -> DirectoryUser:
    """Add and remove the user's licenses by product, all or nothing (the module's rules); ``via``: the door
    it came through, kept on the audit event ("graph"). Answers the user."""
    products = {p.pk: p for p in Product.objects.filter(pk__in=[*change.add, *change.remove])}
    both = sorted(products[pk].name for pk in set(change.add) & set(change.remove))
    if both:
        raise DomainError(_("%(products)s can't be both added and removed.") % {"products": ", ".join(both)},
                          code="add_and_remove")
    ids = Subscription.objects.filter(tenant=tenant, product_id__in=products).values_list("pk", flat=True)
    subs = sorted(subscriptions_lock(tenant=tenant, subscription_ids=list(ids)).values(), key=lambda s: s.pk)
    user = DirectoryUser.objects.select_for_update().filter(tenant=tenant, pk=user_id).first()
    if user is None:
        raise USER_MISSING.error()
    held = {a.subscription.product_id: a for a in
            LicenseAssignment.objects.filter(user=user, subscription__in=subs).select_related("subscription")}
    added = []
    for product_id, disabled in change.add.items():
        product = products[product_id]
        _require_plans_of(tenant, product, disabled)
        assignment = held.get(product_id)
        if assignment is None:
            _require_usage_location(user)
            sub = _source(subs, product)
            assignment = LicenseAssignment.objects.create(user=user, subscription=sub, disabled_plans=sorted(disabled))
            subscription_usage_add(subscription=sub, delta=1)
        else:
            subscription_require_free(assignment.subscription)
            if assignment.disabled_plans == sorted(disabled):
                continue  # held as asked: nothing to change, nothing to record
            assignment.disabled_plans = sorted(disabled)
            assignment.save(update_fields=["disabled_plans"])
        added.append({"subscription": assignment.subscription_id, "sku": product.sku,
                      "disabled_plans": assignment.disabled_plans})
    removed = _removed(user, held, products, change.remove)
    if not added and not removed:
        return user  # nothing changed: nothing audited, no webhook woken
    data = {"user": user.upn, "added": added, "removed": removed}
    if via:
        data["via"] = via
    event_record(tenant=tenant, actor=actor, verb=LICENSES_CHANGED, obj=user, data=data)
    return user
